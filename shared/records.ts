/**
 * The encrypted record stream: how one file becomes ciphertext.
 *
 * A file of `size` bytes is cut into records of `recordSize` plaintext bytes (the last may
 * be shorter; an empty file is one empty record). Record i is sealed with AES-256-GCM:
 *
 *   nonce_i = nonceBase XOR (0^8 || uint32_be(i))          (12 bytes, NIST SP 800-38D §8.2.1)
 *   aad_i   = [RECORD_VERSION, i === last ? 1 : 0]
 *   record_i = ciphertext || tag(16)
 *
 * This is the STREAM construction of Hoang et al. with the final flag in the AAD: a record
 * moved to another index fails (nonce), a record from another file fails (its nonce base is
 * random per file), and a stream cut after any record fails (the record the manifest says is
 * last must carry the final flag). Every record has the same ciphertext size except the last,
 * so the encrypted length follows from the plaintext length and any range of records can be
 * located and decrypted on its own.
 *
 * This file is the format alone (pure functions); the one place records meet AES-GCM is
 * record-aead.ts.
 */
import { MAX_RECORDS, NONCE_BYTES, TAG_SIZE } from './limits.ts';

const RECORD_VERSION = 1;

/** Everything needed to locate and open the records of one file. */
export interface RecordLayout {
  /** Plaintext bytes of the file. */
  size: number;
  /** Plaintext bytes per record. */
  recordSize: number;
}

/** Number of records in a file; an empty file still has one (empty, final) record. */
export function recordCount({ size, recordSize }: RecordLayout): number {
  return size === 0 ? 1 : Math.ceil(size / recordSize);
}

/** Exact ciphertext length of a file: what tus gets as Upload-Length. */
export function encryptedSize(layout: RecordLayout): number {
  return layout.size + recordCount(layout) * TAG_SIZE;
}

/** Plaintext bytes of the file that could produce ciphertext of this length, or -1. */
export function plaintextSize(cipherSize: number, recordSize: number): number {
  const full = recordSize + TAG_SIZE;
  const records = Math.max(1, Math.ceil(cipherSize / full));
  const size = cipherSize - records * TAG_SIZE;
  return size >= 0 && encryptedSize({ size, recordSize }) === cipherSize ? size : -1;
}

/** Plaintext byte range [start, end) of record i. */
export function plainRange(layout: RecordLayout, index: number): [number, number] {
  const start = index * layout.recordSize;
  return [start, Math.min(layout.size, start + layout.recordSize)];
}

/** Ciphertext byte range [start, end) of record i. */
export function cipherRange(layout: RecordLayout, index: number): [number, number] {
  const [ps, pe] = plainRange(layout, index);
  const start = index * (layout.recordSize + TAG_SIZE);
  return [start, start + (pe - ps) + TAG_SIZE];
}

/** The record that holds ciphertext byte `offset` (offset < encryptedSize). */
export function recordAtCipherOffset(layout: RecordLayout, offset: number): number {
  return Math.min(recordCount(layout) - 1, Math.floor(offset / (layout.recordSize + TAG_SIZE)));
}

/** The record that holds plaintext byte `offset`. */
export function recordAtPlainOffset(layout: RecordLayout, offset: number): number {
  return Math.min(recordCount(layout) - 1, Math.floor(offset / layout.recordSize));
}

export function validateLayout(layout: RecordLayout): void {
  if (!Number.isSafeInteger(layout.size) || layout.size < 0) throw new RangeError('bad file size');
  if (!Number.isSafeInteger(layout.recordSize) || layout.recordSize < 1) throw new RangeError('bad record size');
  if (recordCount(layout) > MAX_RECORDS) throw new RangeError('file has too many records');
}

/** The nonce of record `index`: the nonce base XOR the index (see the header). */
export function nonceFor(base: Uint8Array, index: number): Uint8Array<ArrayBuffer> {
  if (base.length !== NONCE_BYTES) throw new RangeError('nonce base must be 12 bytes');
  const nonce = new Uint8Array(base);
  const view = new DataView(nonce.buffer);
  view.setUint32(8, view.getUint32(8) ^ index);
  return nonce;
}

/** The additional data of a record: the format's version and whether it is the last. */
export function aadFor(final: boolean): Uint8Array<ArrayBuffer> {
  return new Uint8Array([RECORD_VERSION, final ? 1 : 0]);
}

/** One file's record cipher: a key, a nonce base and the layout, plus a name for errors. */
export interface FileCipher extends RecordLayout {
  key: CryptoKey;
  nonceBase: Uint8Array;
  /** Used only in error messages. */
  name: string;
}

/** Reads plaintext bytes [start, end) of the file being sent. */
export type PlainReader = (start: number, end: number) => Promise<Uint8Array<ArrayBuffer>>;
