/**
 * The sender's half of the relay fallback: the share at the id derived from the transfer's
 * secret (shared/keys.ts relayShareId), then, per file the recipient does not have whole, one tus upload of
 * the file's ciphertext from the first record the recipient had not acknowledged. The
 * records are the very ones the data channel would have carried (same key, nonce base and
 * index), sealed by the app's one range sealer as tus asks for each slice, so the recipient
 * verifies them the same way.
 */
import type { FileSource, Upload } from 'tus-js-client';
import { FerryError } from '../../../shared/errors.ts';
import { TAG_SIZE } from '../../../shared/limits.ts';
import type { RelayOwner, RelayShare, RelayShareApi } from '../../../shared/p2p/relay-share.ts';
import * as relayShares from '../../../shared/p2p/relay-share.ts';
import { plainSpan, sealParts } from '../../../shared/record-stream.ts';
import {
  cipherRange,
  encryptedSize,
  type FileCipher,
  plainRange,
  recordAtCipherOffset,
  recordCount,
} from '../../../shared/records.ts';
import { createShareWithOwnTokens, getOwnerView, revokeShare } from '../api/share-client.ts';
import { weighBlob } from '../transfer/send/blob-gc.ts';

export type { RelayOwner, RelayShare } from '../../../shared/p2p/relay-share.ts';
export { RELAY_COLLECT_POLL_MS } from '../../../shared/p2p/relay-share.ts';

/** Records per PATCH: about 1 MiB with 64 KiB records; every chunk starts on a record. */
const CHUNK_RECORDS = 16;
/** tus-js-client retries a failed request after these pauses, then gives up. */
const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10_000];
const TUS_PATH = '/files/';
/** The page's share API (relative URLs, this browser's upload key). */
const api: RelayShareApi = { createShareWithOwnTokens, getOwnerView, revokeShare };

/** Creates the transfer's relay share (shared/p2p/relay-share.ts) on the page's server. */
export function createRelayShare(
  secret: Uint8Array<ArrayBuffer>,
  manifest: string,
  files: readonly FileCipher[],
  pauses?: readonly number[],
): Promise<RelayShare> {
  return relayShares.createRelayShare(api, secret, manifest, files, pauses);
}

/** Revokes the relay share of a transfer that will not finish. */
export function withdrawRelayShare(share: RelayOwner): Promise<void> {
  return relayShares.withdrawRelayShare(api, share);
}

/** Revokes the relay share once the recipient has read it (shared/p2p/relay-share.ts). */
export function collectRelayShare(
  share: RelayOwner,
  stopped: () => boolean,
  downloads?: () => Promise<number>,
  pollMs?: number,
): Promise<boolean> {
  return relayShares.collectRelayShare(api, share, stopped, downloads, pollMs);
}

/**
 * A tus source of ciphertext [base, end of file) of `file`, `base` at record `from`: each
 * slice is the app's range sealer's (shared/record-stream.ts `sealParts`) over the records
 * it overlaps, cut to the slice.
 */
export function restOfFile(file: File, cipher: FileCipher, from: number): FileSource {
  const total = encryptedSize(cipher);
  const base = cipherRange(cipher, from)[0];
  return {
    size: total - base,
    async slice(start: number, end: number) {
      const first = base + start;
      const stop = Math.min(total, base + end);
      const [ps, pe] = plainSpan(cipher, first, stop);
      const plain = new Uint8Array(await file.slice(ps, pe).arrayBuffer());
      const joined = new Blob(await sealParts(cipher, plain, first, stop));
      // Its bytes wait for this page's GC once spent: let the GC see them (blob-gc.ts).
      weighBlob(joined.size);
      return { value: joined, done: stop >= total };
    },
    close() {},
  };
}

/**
 * Uploads file `index` from record `from` on; `onProgress` hears the plaintext bytes of the
 * file now stored on the server (those before `from` included). Settles when sealed.
 */
export function uploadRest(
  share: RelayShare,
  index: number,
  file: File,
  cipher: FileCipher,
  from: number,
  onProgress: (plainBytes: number) => void,
): { done: Promise<void>; abort: () => void } {
  const base = cipherRange(cipher, from)[0];
  const metadata: Record<string, string> = { share: share.id, index: String(index) };
  // The server takes a base only past byte 0 (an upload from record 0 is an ordinary one).
  if (base > 0) Object.assign(metadata, { base: String(base), recordSize: String(cipher.recordSize) });
  let upload: Upload | null = null;
  let aborted = false;
  let stop: (error: FerryError) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    stop = reject;
    const options = {
      endpoint: new URL(TUS_PATH, location.href).href,
      headers: { Authorization: `Bearer ${share.uploadToken}` },
      metadata,
      chunkSize: CHUNK_RECORDS * (cipher.recordSize + TAG_SIZE),
      retryDelays: RETRY_DELAYS_MS,
      storeFingerprintForResuming: false,
      fileReader: { openFile: async () => restOfFile(file, cipher, from) },
      onProgress: (sent: number) => {
        const stored = base + sent;
        const records = stored >= encryptedSize(cipher) ? recordCount(cipher) : recordAtCipherOffset(cipher, stored);
        onProgress(records === 0 ? 0 : plainRange(cipher, records - 1)[1]);
      },
      onError: (error: Error) =>
        reject(
          error instanceof FerryError
            ? error
            : new FerryError('NETWORK_ERROR', 'The upload to Ferry’s server failed.', { cause: error }),
        ),
      onSuccess: () => resolve(),
    };
    // tus-js-client loads with the first relay upload (the start screen does not need it).
    import('tus-js-client').then(
      ({ Upload }) => {
        if (aborted) return;
        upload = new Upload(file, options);
        upload.start();
      },
      (error: unknown) =>
        reject(new FerryError('NETWORK_ERROR', 'Ferry could not load its upload code.', { cause: error })),
    );
  });
  return {
    done,
    abort: () => {
      // tus-js-client reports no error for an abort it was asked for: settle `done` here.
      aborted = true;
      stop(new FerryError('ABORTED', 'Cancelled.'));
      void (upload as Upload | null)?.abort(true).catch(() => undefined);
    },
  };
}
