/**
 * The recipient's half of the relay fallback, for the app and the ferry command (`base`:
 * the server's origin, '' for the page's own): wait for the share at the id derived from the
 * transfer's secret (shared/keys.ts relayShareId), then fetch each unfinished file's ciphertext from the first
 * record it lacks with Range, following the upload as it grows (`206 …/*` pieces, `425`
 * while nothing new is stored), and hand each whole record on. The records are opened and
 * verified by the same OPFS writer as the peer's were, so nothing here is trusted.
 */
import { TICKET_HEADER } from '../api.ts';
import { ShareApi } from '../api-client.ts';
import { type ErrorCode, FerryError } from '../errors.ts';
import { bearer, fetchCiphertextAt, request } from '../http-client.ts';
import { deriveShareKeys, relayShareId } from '../keys.ts';
import type { Manifest } from '../manifest.ts';
import { RecordChunker } from '../record-chunker.ts';
import { cipherRange, type FileCipher, type RecordLayout, recordAtCipherOffset } from '../records.ts';
import type { RelayRoute } from './receiver-session.ts';
import { RELAY_POLL_MS, RELAY_WAIT_MS } from './relay.ts';

/** Give up on a file when no new record arrived for this long (the sender stopped). */
export const RELAY_STALL_MS = 10 * 60_000;
/**
 * How far before the first record it lacks the recipient looks for the relay upload's
 * start: the sender uploads from the last acknowledgement it got, and never has more than
 * its window of records unacknowledged (shared/p2p/sender-session.ts SEND_WINDOW_BYTES, 16 MiB).
 */
export const RELAY_REWIND_BYTES = 16 * 1024 * 1024;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function codeOf(error: unknown): string | null {
  return error instanceof FerryError ? error.code : null;
}

/**
 * Polls for the relay share until it exists (true), `stop()` says to stop looking, or
 * `until` (ms since the epoch) passes (false). Only "not found yet" and network failures
 * are waited out; an expired or revoked share is an error.
 */
export async function waitForRelayShare(id: string, until: number, stop: () => boolean, base = ''): Promise<boolean> {
  const api = new ShareApi(base);
  while (!stop() && Date.now() < until) {
    try {
      await api.getShareInfo(id);
      return true;
    } catch (error) {
      if (codeOf(error) !== 'SHARE_NOT_FOUND' && codeOf(error) !== 'NETWORK_ERROR') throw error;
    }
    await sleep(RELAY_POLL_MS);
  }
  return false;
}

export interface RelayFileRead {
  /** The server's origin; '' (or absent) for the page's own. */
  base?: string;
  shareId: string;
  readerToken: string;
  ticket: string;
  index: number;
  layout: RecordLayout;
  name: string;
  /** The first record this side lacks. */
  from: number;
  /** One whole sealed record, in order; awaited, so it may hold the next fetch back. */
  onRecord: (record: number, sealed: Uint8Array<ArrayBuffer>) => Promise<void>;
  /** True once the transfer ended some other way. */
  stopped: () => boolean;
}

/** A ticket for the files still to fetch. */
export async function relayTicket(shareId: string, readerToken: string, files: number[], base = ''): Promise<string> {
  return (await new ShareApi(base).requestTicket(shareId, readerToken, files)).ticket;
}

/**
 * Where the relay upload of a file starts, at or before `read.from`: the first record the
 * server stores there. The sender uploads from the last record it knew acknowledged, which
 * may lie before the first this side lacks; reading from that start makes the ticket's
 * coverage whole, so the server counts the download at once and the sender deletes the
 * share (relay-upload.ts collectRelayShare). Waits until the record at `from` is stored,
 * then bisects down to RELAY_REWIND_BYTES earlier with HEAD requests (they move no bytes
 * and add no coverage): the server answers RANGE_NOT_STORED below the upload's start.
 */
export async function relayStart(
  read: RelayFileRead,
  probe: (read: RelayFileRead, start: number) => Promise<StoredStatus> = headStatus,
): Promise<number> {
  const at = (record: number) => cipherRange(read.layout, record)[0];
  const lowest = recordAtCipherOffset(read.layout, Math.max(0, at(read.from) - RELAY_REWIND_BYTES));
  if (read.from === 0) return 0;
  const since = Date.now();
  for (;;) {
    const status = await probe(read, at(read.from)).catch((error: unknown) => {
      if (codeOf(error) === 'NETWORK_ERROR') return 'not-yet' as const;
      throw error;
    });
    if (status === 'stored') break;
    // Anything else is for the reads to report (a revoked share, a lapsed ticket).
    if (status === 'other' || status === 'below' || read.stopped()) return read.from;
    if (Date.now() - since > RELAY_STALL_MS) {
      throw new FerryError('NETWORK_ERROR', `${read.name}: the sender has stopped uploading.`);
    }
    await sleep(RELAY_POLL_MS);
  }
  // Invariant: record `high` is stored; every record below `low` is not (or is out of reach).
  let low = lowest;
  let high = read.from;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const status = await probe(read, at(middle)).catch(() => 'other' as const);
    if (status === 'stored') high = middle;
    else if (status === 'below') low = middle + 1;
    else return read.from;
  }
  return high;
}

/** Whether the server stores the byte at `start` of a file (`below`: the upload starts after it). */
export type StoredStatus = 'stored' | 'below' | 'not-yet' | 'other';

async function headStatus(read: RelayFileRead, start: number): Promise<StoredStatus> {
  const headers = bearer(read.readerToken, { [TICKET_HEADER]: read.ticket, Range: `bytes=${start}-` });
  const url = `${(read.base ?? '').replace(/\/+$/, '')}/api/shares/${read.shareId}/files/${read.index}`;
  const response = await request(url, { method: 'HEAD', headers });
  if (response.ok) return 'stored';
  if (response.status === 416) return 'below';
  if (response.status === 425) return 'not-yet';
  return 'other';
}

/**
 * Reads records [from, last] of one file from the relay share; the records between the
 * upload's start and `from` (relayStart) are read so the ticket completes, and dropped.
 */
export async function readFromRelay(read: RelayFileRead): Promise<void> {
  const chunker = new RecordChunker(read.layout, await relayStart(read), read.name);
  const auth = { readerToken: read.readerToken, ticket: read.ticket };
  let progressAt = Date.now();
  while (!chunker.done && !read.stopped()) {
    if (Date.now() - progressAt > RELAY_STALL_MS) {
      throw new FerryError('NETWORK_ERROR', `${read.name}: the sender has stopped uploading.`);
    }
    const before = chunker.nextIndex;
    try {
      const start = cipherRange(read.layout, chunker.nextIndex)[0];
      const response = await fetchCiphertextAt(read.base ?? '', read.shareId, read.index, auth, start);
      const reader = response.body?.getReader();
      if (!reader) throw new FerryError('NETWORK_ERROR', 'The server sent no body.');
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const record of chunker.push(value)) {
          if (record.index >= read.from) await read.onRecord(record.index, record.sealed);
        }
        if (read.stopped()) {
          await reader.cancel();
          return;
        }
      }
    } catch (error) {
      // Not stored yet, or the connection dropped: ask again from the first record lacking.
      if (codeOf(error) !== 'FILE_NOT_READY' && codeOf(error) !== 'NETWORK_ERROR' && !(error instanceof TypeError)) {
        throw error;
      }
    }
    // A piece of a growing upload ends where the stored bytes did; the next starts on a record.
    chunker.restart();
    if (chunker.nextIndex > before) progressAt = Date.now();
    else await sleep(RELAY_POLL_MS);
  }
}

/** What the relay route needs of a transfer (a ReceiverSession has it once the offer is opened). */
export interface RelayTransfer {
  readonly secret: Uint8Array<ArrayBuffer>;
  readonly ciphers: readonly FileCipher[];
  readonly manifest: Manifest | null;
}

export interface RelayRouteOptions {
  /** The server's origin; '' (or absent) for the page's own. */
  base?: string;
  /** The sender's name, for the sentence when it revoked the share (stopped the transfer). */
  peerName: string;
  /** How long to look for the share (RELAY_WAIT_MS). */
  waitMs?: number;
  /** Hand each record in a buffer of its own (the app transfers it to its writer worker). */
  ownBuffers?: boolean;
}

/**
 * A ReceiverSession's relay route over the server at `base` (`transferOf`: the session, read
 * when the route is used, so it may be given while the session is made): the share whose id the
 * transfer's secret derives, read with Range from each file's first missing record. A share
 * the sender revoked means it stopped the transfer (ABORTED). The app and the ferry command
 * both receive through this.
 */
export function relayRoute(transferOf: () => RelayTransfer, options: RelayRouteOptions): RelayRoute {
  const base = options.base ?? '';
  const share = async () => ({
    id: await relayShareId(transferOf().secret),
    readerToken: (await deriveShareKeys(transferOf().secret)).readerToken,
  });
  const own = (sealed: Uint8Array<ArrayBuffer>) =>
    !options.ownBuffers || (sealed.byteOffset === 0 && sealed.byteLength === sealed.buffer.byteLength)
      ? sealed
      : sealed.slice();
  return {
    find: async (stopped) =>
      waitForRelayShare((await share()).id, Date.now() + (options.waitMs ?? RELAY_WAIT_MS), stopped, base),
    read: async (files, onRecord, stopped) => {
      try {
        const { id, readerToken } = await share();
        const ticket = await relayTicket(
          id,
          readerToken,
          files.map((f) => f.file),
          base,
        );
        for (const { file, from } of files) {
          await readFromRelay({
            base,
            shareId: id,
            readerToken,
            ticket,
            index: file,
            layout: transferOf().ciphers[file]!,
            name: transferOf().manifest?.files[file]?.name ?? '',
            from,
            onRecord: (record, sealed) => onRecord(file, record, own(sealed)),
            stopped,
          });
        }
      } catch (error) {
        if (error instanceof FerryError && error.code === 'SHARE_REVOKED') {
          throw new FerryError('ABORTED', `${options.peerName} stopped the transfer.`, { cause: error });
        }
        throw error;
      }
    },
  };
}

/** Relay share answers that mean its files are gone: an offer for them must not be shown. */
const GONE: ReadonlySet<ErrorCode> = new Set([
  'SHARE_EXPIRED',
  'SHARE_REVOKED',
  'SHARE_NOT_FOUND',
  'DOWNLOAD_LIMIT_REACHED',
]);

/**
 * The sealed manifest of an offer that came through the server, read from its relay share.
 * An offer that waited in the mailbox past the share's life (or that the sender withdrew)
 * is refused with a sentence naming the sender, so nobody accepts files that are gone.
 */
export async function relayManifest(secret: Uint8Array<ArrayBuffer>, senderName: string, base = ''): Promise<string> {
  try {
    const api = new ShareApi(base);
    const { manifest } = await api.getManifest(await relayShareId(secret), (await deriveShareKeys(secret)).readerToken);
    return manifest;
  } catch (error) {
    if (!(error instanceof FerryError) || !GONE.has(error.code)) throw error;
    throw new FerryError(
      error.code,
      `Files ${senderName} sent through the server are no longer there: the offer expired or was withdrawn.`,
      { cause: error },
    );
  }
}
