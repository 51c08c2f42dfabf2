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
 */
import { FerryError } from './errors.ts';
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

/** Seals record `index` of a file; `plain` must be exactly that record's plaintext. */
export async function encryptRecord(
  file: FileCipher,
  index: number,
  plain: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const [start, end] = plainRange(file, index);
  if (plain.length !== end - start || index >= recordCount(file)) {
    throw new RangeError(`record ${index} of ${file.name} must be ${end - start} bytes, got ${plain.length}`);
  }
  const final = index === recordCount(file) - 1;
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonceFor(file.nonceBase, index), additionalData: aadFor(final) },
    file.key,
    plain,
  );
  return new Uint8Array(sealed);
}

/**
 * Opens record `index` of a file. Fails with RECORD_TRUNCATED when the record has the wrong
 * length and RECORD_AUTH_FAILED when the tag does not verify (flipped bit, wrong key, moved,
 * swapped or truncated stream); both name the file and the record.
 */
export async function decryptRecord(
  file: FileCipher,
  index: number,
  sealed: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const [start, end] = cipherRange(file, index);
  if (index < 0 || index >= recordCount(file) || sealed.length !== end - start) {
    throw new FerryError(
      'RECORD_TRUNCATED',
      `${file.name}: record ${index} is ${sealed.length} bytes, expected ${end - start}.`,
    );
  }
  const final = index === recordCount(file) - 1;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: nonceFor(file.nonceBase, index), additionalData: aadFor(final) },
      file.key,
      sealed,
    );
    return new Uint8Array(plain);
  } catch (cause) {
    throw new FerryError('RECORD_AUTH_FAILED', `${file.name}: record ${index} failed verification.`, { cause });
  }
}

/** Reads plaintext bytes [start, end) of the file being sent. */
export type PlainReader = (start: number, end: number) => Promise<Uint8Array<ArrayBuffer>>;

/**
 * Ciphertext bytes [start, end) of a file, encrypting only the records that overlap the
 * range. This is what the tus fileReader's slice() returns.
 */
export async function encryptRange(
  file: FileCipher,
  read: PlainReader,
  start: number,
  end: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const total = encryptedSize(file);
  end = Math.min(end, total);
  if (start < 0 || start > end) throw new RangeError(`bad ciphertext range ${start}-${end}`);
  const out = new Uint8Array(end - start);
  if (start === end) return out;
  const first = recordAtCipherOffset(file, start);
  const last = recordAtCipherOffset(file, end - 1);
  const [plainStart] = plainRange(file, first);
  const [, plainEnd] = plainRange(file, last);
  const plain = await read(plainStart, plainEnd);
  if (plain.length !== plainEnd - plainStart) {
    throw new FerryError('CONTENT_CHANGED', `${file.name} changed size while it was being sent.`);
  }
  for (let i = first; i <= last; i++) {
    const [ps, pe] = plainRange(file, i);
    // A view, not a copy: WebCrypto copies its input when called.
    const sealed = await encryptRecord(file, i, plain.subarray(ps - plainStart, pe - plainStart));
    const [cs] = cipherRange(file, i);
    const from = Math.max(start, cs);
    const to = Math.min(end, cs + sealed.length);
    out.set(sealed.subarray(from - cs, to - cs), from - start);
  }
  return out;
}
