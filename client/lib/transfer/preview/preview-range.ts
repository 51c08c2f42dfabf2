/**
 * From a browser's Range request on a preview to the ciphertext records that answer it.
 *
 * The media element asks for plaintext bytes (`Range: bytes=a-b`, RFC 9110 §14.1.2); the
 * server stores records of `recordSize` plaintext bytes plus a 16-byte tag. Plaintext byte
 * `p` lies in record `floor(p / recordSize)`, so a range needs only the records from the one
 * holding its first byte to the one holding its last, fetched as one exact ciphertext
 * range (shared/records.ts). They are fetched a window of records at a time, as the browser
 * reads, so an open range (`bytes=a-`, what a <video> sends on every seek) never pulls the
 * rest of the file at once.
 */
import { parseRange as parseByteRange } from '../../../../shared/byte-range.ts';
import { cipherRange, plainRange, type RecordLayout, recordAtPlainOffset } from '../../../../shared/records.ts';

/** Plaintext bytes [start, end) of a file. */
export interface Span {
  start: number;
  end: number;
}

/**
 * What to answer a request's Range header with, for a file of `size` bytes:
 * `full` (200: no Range, several ranges, or one that does not parse — RFC 9110 §14.2 lets a
 * server ignore those), `partial` (206) or `unsatisfiable` (416).
 */
export type RangeAnswer = { kind: 'full' } | ({ kind: 'partial' } & Span) | { kind: 'unsatisfiable' };

/** Reads one `Range: bytes=…` header against a file of `size` bytes (shared/byte-range.ts). */
export function parseRange(header: string | null, size: number): RangeAnswer {
  const range = parseByteRange(header, size);
  // Content-Range's inclusive end, as the half-open span the records are cut by.
  return range.kind === 'partial' ? { kind: 'partial', start: range.start, end: range.end + 1 } : range;
}

/** The records [first, last] that hold plaintext [start, end), end > start. */
export function recordsOf(layout: RecordLayout, span: Span): { first: number; last: number } {
  return { first: recordAtPlainOffset(layout, span.start), last: recordAtPlainOffset(layout, span.end - 1) };
}

/**
 * The next window: from record `first`, at most `maxRecords` records, none past `last`.
 * `cipher` is the exact ciphertext byte range [start, end) of those records.
 */
export function windowOf(
  layout: RecordLayout,
  first: number,
  last: number,
  maxRecords: number,
): { first: number; last: number; cipher: Span } {
  const end = Math.min(last, first + maxRecords - 1);
  return { first, last: end, cipher: { start: cipherRange(layout, first)[0], end: cipherRange(layout, end)[1] } };
}

/** The part of record `index`'s plaintext that lies inside `span`. */
export function clipRecord(
  layout: RecordLayout,
  index: number,
  plain: Uint8Array<ArrayBuffer>,
  span: Span,
): Uint8Array<ArrayBuffer> {
  const [recordStart] = plainRange(layout, index);
  const from = Math.max(0, span.start - recordStart);
  const to = Math.min(plain.length, span.end - recordStart);
  return plain.subarray(from, Math.max(from, to));
}
