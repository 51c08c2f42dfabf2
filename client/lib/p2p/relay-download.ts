/**
 * The recipient's half of the relay fallback: wait for the share at the id derived from the
 * transfer's secret (relay.ts), then fetch each unfinished file's ciphertext from the first
 * record it lacks with Range, following the upload as it grows (`206 …/*` pieces, `425`
 * while nothing new is stored), and hand each whole record on. The records are opened and
 * verified by the same OPFS writer as the peer's were, so nothing here is trusted.
 */
import { FerryError } from '../../../shared/errors.ts';
import { cipherRange, type RecordLayout } from '../../../shared/records.ts';
import { fetchCiphertext, getShareInfo, requestTicket } from '../api/share-client.ts';
import { RecordChunker } from '../transfer/receive/record-chunker.ts';
import { RELAY_POLL_MS } from './relay.ts';

/** Give up on a file when no new record arrived for this long (the sender stopped). */
export const RELAY_STALL_MS = 10 * 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function codeOf(error: unknown): string | null {
  return error instanceof FerryError ? error.code : null;
}

/**
 * Polls for the relay share until it exists (true), `stop()` says to stop looking, or
 * `until` (ms since the epoch) passes (false). Only "not found yet" and network failures
 * are waited out; an expired or revoked share is an error.
 */
export async function waitForRelayShare(id: string, until: number, stop: () => boolean): Promise<boolean> {
  while (!stop() && Date.now() < until) {
    try {
      await getShareInfo(id);
      return true;
    } catch (error) {
      if (codeOf(error) !== 'SHARE_NOT_FOUND' && codeOf(error) !== 'NETWORK_ERROR') throw error;
    }
    await sleep(RELAY_POLL_MS);
  }
  return false;
}

export interface RelayFileRead {
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
export async function relayTicket(shareId: string, readerToken: string, files: number[]): Promise<string> {
  return (await requestTicket(shareId, readerToken, files)).ticket;
}

/** Reads records [from, last] of one file from the relay share. */
export async function readFromRelay(read: RelayFileRead): Promise<void> {
  const chunker = new RecordChunker(read.layout, read.from, read.name);
  const auth = { readerToken: read.readerToken, ticket: read.ticket };
  let progressAt = Date.now();
  while (!chunker.done && !read.stopped()) {
    if (Date.now() - progressAt > RELAY_STALL_MS) {
      throw new FerryError('NETWORK_ERROR', `${read.name}: the sender has stopped uploading.`);
    }
    const before = chunker.nextIndex;
    try {
      const start = cipherRange(read.layout, chunker.nextIndex)[0];
      const response = await fetchCiphertext(read.shareId, read.index, auth, start);
      const reader = response.body?.getReader();
      if (!reader) throw new FerryError('NETWORK_ERROR', 'The server sent no body.');
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const record of chunker.push(value)) await read.onRecord(record.index, record.sealed);
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
