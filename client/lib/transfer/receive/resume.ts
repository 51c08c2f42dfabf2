/**
 * Where and when a dropped download starts again. A resumed request asks for ciphertext
 * from the first byte of the first record not yet fully received (RFC 9110 §14.1.2,
 * `Range: bytes=<offset>-`), so every response begins on a record boundary.
 *
 * After a dropped connection (not after a normal end of a growing file) the request starts
 * up to REWIND_BYTES earlier and the re-fetched records are discarded: the server records
 * what it has sent at least every 1 MiB, so a server killed mid-response may not know
 * about the last MiB it sent, and a download that resumed past that point would leave a
 * hole in its coverage and never count as complete (server/shares/get-file.ts).
 */
import { FerryError } from '../../../../shared/errors.ts';
import { cipherRange, type RecordLayout, recordCount } from '../../../../shared/records.ts';

/** Attempts in a row without a single new record before a download gives up. */
export const MAX_RESUME_ATTEMPTS = 5;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;

/** How far before the first missing byte a request after a dropped connection starts. */
export const REWIND_BYTES = 2 * 1024 * 1024;

/** The record a request after a dropped connection starts at: REWIND_BYTES before `nextRecord`. */
export function rewindRecord(layout: RecordLayout, nextRecord: number): number {
  return Math.max(0, nextRecord - Math.ceil(REWIND_BYTES / (layout.recordSize + 16)));
}

/** Ciphertext offset a resumed request starts at, given the first record still missing. */
export function resumeOffset(layout: RecordLayout, nextRecord: number): number {
  if (!Number.isInteger(nextRecord) || nextRecord < 0 || nextRecord >= recordCount(layout)) {
    throw new RangeError(`no record ${nextRecord} to resume from`);
  }
  return cipherRange(layout, nextRecord)[0];
}

/**
 * Delay before retry `attempt` (1-based): exponential backoff with "full jitter" so that
 * many recipients of one share do not come back in step. `random` is injectable for tests.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Failures worth another try: the connection, or the server being briefly unwell. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof FerryError) {
    return ['NETWORK_ERROR', 'INTERNAL', 'STORAGE_FAILED', 'RATE_LIMITED', 'OVERLOADED'].includes(error.code);
  }
  // A body read that breaks mid-stream rejects with a TypeError (Fetch §4.6 "network error").
  return error instanceof TypeError;
}
