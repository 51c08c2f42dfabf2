/**
 * The sender's half of the relay fallback: the share at the id derived from the transfer's
 * secret (shared/keys.ts relayShareId), then, per file the recipient does not have whole, one tus upload of
 * the file's ciphertext from the first record the recipient had not acknowledged. The
 * records are the very ones the data channel would have carried (same key, nonce base and
 * index), encrypted as tus asks for each slice, so the recipient verifies them the same way.
 */
import type { FileSource, Upload } from 'tus-js-client';
import { randomBytes, toBase64Url } from '../../../shared/encoding.ts';
import { type ErrorCode, FerryError } from '../../../shared/errors.ts';
import { deriveShareKeys, relayShareId, tokenHash } from '../../../shared/keys.ts';
import { TAG_SIZE, TOKEN_BYTES } from '../../../shared/limits.ts';
import { RELAY_EXPIRY_SECONDS } from '../../../shared/p2p/relay.ts';
import {
  cipherRange,
  encryptedSize,
  encryptRecord,
  type FileCipher,
  plainRange,
  recordAtCipherOffset,
  recordCount,
} from '../../../shared/records.ts';
import { createShareWithOwnTokens, getOwnerView, revokeShare } from '../api/share-client.ts';
import { weighBlob } from '../transfer/send/blob-gc.ts';

/** Records per PATCH: about 1 MiB with 64 KiB records; every chunk starts on a record. */
const CHUNK_RECORDS = 16;
/** tus-js-client retries a failed request after these pauses, then gives up. */
const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10_000];
const TUS_PATH = '/files/';
/** Pauses before asking again to create the relay share, after a lost answer or a passing failure. */
const CREATE_RETRY_DELAYS_MS = [1000, 3000, 5000];
/** How often the sender asks the server whether the recipient has read the relay share. */
export const RELAY_COLLECT_POLL_MS = 5000;
/** Failures worth asking again after; any other answer means the server no longer keeps the share. */
const PASSING: ReadonlySet<ErrorCode> = new Set([
  'NETWORK_ERROR',
  'INTERNAL',
  'STORAGE_FAILED',
  'RATE_LIMITED',
  'OVERLOADED',
]);

/** The relay share's id and the tokens this tab made for it. */
export interface RelayShare {
  id: string;
  ownerToken: string;
  uploadToken: string;
}
/** What revoking or collecting a relay share needs: its id and owner token. */
export type RelayOwner = Pick<RelayShare, 'id' | 'ownerToken'>;

/**
 * Creates the transfer's relay share: every file has a slot at its full ciphertext size.
 * The owner and upload tokens are made here and only their hashes sent, so when the answer
 * is lost (the request reached the server, the connection dropped) the same body is simply
 * sent again, after `pauses`, and the server answers it with the share it made. They are
 * random rather than derived from the secret: the recipient holds the secret too, and must
 * not be able to act as the share's owner.
 */
export async function createRelayShare(
  secret: Uint8Array<ArrayBuffer>,
  manifest: string,
  files: readonly FileCipher[],
  pauses: readonly number[] = CREATE_RETRY_DELAYS_MS,
): Promise<RelayShare> {
  const keys = await deriveShareKeys(secret);
  const ownerToken = toBase64Url(randomBytes(TOKEN_BYTES));
  const uploadToken = toBase64Url(randomBytes(TOKEN_BYTES));
  const body = {
    id: await relayShareId(secret),
    readerHash: await tokenHash(keys.readerToken),
    ownerHash: await tokenHash(ownerToken),
    uploadHash: await tokenHash(uploadToken),
    expiresInSeconds: RELAY_EXPIRY_SECONDS,
    maxDownloads: null,
    password: null,
    manifest,
    files: files.map((file) => ({ size: encryptedSize(file) })),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await createShareWithOwnTokens(body);
      return { id: body.id, ownerToken, uploadToken };
    } catch (error) {
      if (error instanceof FerryError && error.code === 'SHARE_ID_TAKEN') {
        throw new FerryError('SHARE_ID_TAKEN', 'This transfer was already handed to the server once.', {
          cause: error,
        });
      }
      if (!(error instanceof FerryError) || !PASSING.has(error.code) || attempt >= pauses.length) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, pauses[attempt]));
  }
}

/**
 * Revokes the relay share of a transfer the sender cancelled or that failed: its bytes are
 * deleted, and the recipient reading it hears SHARE_REVOKED instead of waiting for more.
 */
export async function withdrawRelayShare(share: RelayOwner): Promise<void> {
  await revokeShare(share.id, share.ownerToken).catch(() => undefined);
}

/**
 * Waits until the recipient has read the relay share (the server counts a download once a
 * ticket's files were all sent, each from its base on), then revokes it, so its bytes go at
 * the next sweep instead of lingering until RELAY_EXPIRY_SECONDS. Answers true when
 * revoked; false when `stopped()` (the caller withdraws the share itself) or the server no
 * longer has it. Network errors are waited out; `downloads` reads the count (owner token).
 */
export async function collectRelayShare(
  share: RelayOwner,
  stopped: () => boolean,
  downloads = async () => (await getOwnerView(share.id, share.ownerToken)).downloads,
  pollMs = RELAY_COLLECT_POLL_MS,
): Promise<boolean> {
  while (!stopped()) {
    try {
      if ((await downloads()) >= 1) {
        await revokeShare(share.id, share.ownerToken);
        return true;
      }
    } catch (error) {
      if (!(error instanceof FerryError) || !PASSING.has(error.code)) return false;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return false;
}

/**
 * A tus source of ciphertext [base, end of file) of `file`, `base` at record `from`:
 * each slice encrypts the records it overlaps and cuts them to the slice.
 */
export function restOfFile(file: File, cipher: FileCipher, from: number): FileSource {
  const total = encryptedSize(cipher);
  const base = cipherRange(cipher, from)[0];
  return {
    size: total - base,
    async slice(start: number, end: number) {
      const first = base + start;
      const stop = Math.min(total, base + end);
      const records = [];
      for (let r = recordAtCipherOffset(cipher, first); r <= recordAtCipherOffset(cipher, stop - 1); r++) {
        const [ps, pe] = plainRange(cipher, r);
        const plain = new Uint8Array(await file.slice(ps, pe).arrayBuffer());
        if (plain.length !== pe - ps) {
          throw new FerryError('CONTENT_CHANGED', `${cipher.name} changed while it was being sent.`);
        }
        records.push(await encryptRecord(cipher, r, plain));
      }
      const skip = first - cipherRange(cipher, recordAtCipherOffset(cipher, first))[0];
      const joined = new Blob(records).slice(skip, skip + (stop - first));
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
