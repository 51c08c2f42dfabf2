import { describe, expect, it } from 'vitest';
import { randomBytes } from './encoding.ts';
import { FerryError } from './errors.ts';
import { deriveFileKey, deriveShareKeys, newSecret } from './keys.ts';
import { decryptRecord, encryptRange, encryptRecord } from './record-aead.ts';
import {
  cipherRange,
  encryptedSize,
  type FileCipher,
  plaintextSize,
  recordAtCipherOffset,
  recordCount,
} from './records.ts';

const R = 1024;

async function cipherFor(size: number, name = 'a.bin'): Promise<FileCipher> {
  const { contentKey } = await deriveShareKeys(newSecret());
  const nonceBase = randomBytes(12);
  return { key: await deriveFileKey(contentKey, nonceBase), nonceBase, size, recordSize: R, name };
}

function patterned(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

async function encryptAll(file: FileCipher, plain: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return encryptRange(file, async (s, e) => plain.slice(s, e), 0, encryptedSize(file));
}

async function decryptAll(file: FileCipher, sealed: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(file.size);
  for (let i = 0; i < recordCount(file); i++) {
    const [cs, ce] = cipherRange(file, i);
    const plain = await decryptRecord(file, i, sealed.slice(cs, ce));
    out.set(plain, i * file.recordSize);
  }
  return out;
}

async function failure(promise: Promise<unknown>): Promise<FerryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FerryError) return error;
    throw error;
  }
  throw new Error('expected a FerryError');
}

describe('record stream', () => {
  it.each([0, 1, R - 1, R, R + 1, 7 * R + 13, 40 * R])('round-trips %i bytes', async (size) => {
    const file = await cipherFor(size);
    const plain = patterned(size);
    const sealed = await encryptAll(file, plain);
    expect(sealed.length).toBe(encryptedSize(file));
    expect(sealed.length).toBe(size + recordCount(file) * 16);
    expect(plaintextSize(sealed.length, R)).toBe(size);
    expect(await decryptAll(file, sealed)).toEqual(plain);
  });

  it('encrypts any ciphertext range to the same bytes as the whole stream', async () => {
    const file = await cipherFor(5 * R + 100);
    const plain = patterned(file.size);
    const reads: Array<[number, number]> = [];
    const read = async (s: number, e: number) => {
      reads.push([s, e]);
      return plain.slice(s, e);
    };
    const whole = await encryptAll(file, plain);
    // Encryption is deterministic for a given key, nonce base and index: slices must match.
    for (const [s, e] of [
      [0, 1],
      [R + 10, R + 20],
      [R + 15, 3 * (R + 16) + 5],
      [whole.length - 3, whole.length],
    ] as const) {
      reads.length = 0;
      expect(await encryptRange(file, read, s, e)).toEqual(whole.slice(s, e));
      // Exactly the records overlapping the range are read, in one call.
      const first = recordAtCipherOffset(file, s);
      const last = recordAtCipherOffset(file, e - 1);
      expect(reads).toEqual([[first * R, Math.min(file.size, (last + 1) * R)]]);
    }
  });

  it('decrypts any record on its own', async () => {
    const file = await cipherFor(10 * R);
    const plain = patterned(file.size);
    const sealed = await encryptAll(file, plain);
    const [cs, ce] = cipherRange(file, 6);
    expect(await decryptRecord(file, 6, sealed.slice(cs, ce))).toEqual(plain.slice(6 * R, 7 * R));
  });

  it('names the file and record when a bit is flipped', async () => {
    const file = await cipherFor(3 * R, 'photos/beach.jpg');
    const sealed = await encryptAll(file, patterned(file.size));
    sealed[R + 16 + 5]! ^= 0x01;
    const error = await failure(decryptAll(file, sealed));
    expect(error.code).toBe('RECORD_AUTH_FAILED');
    expect(error.message).toContain('photos/beach.jpg');
    expect(error.message).toContain('record 1');
  });

  it('detects a stream truncated after a full record', async () => {
    const file = await cipherFor(3 * R);
    const sealed = await encryptAll(file, patterned(file.size));
    // An attacker who drops the last record and claims the file is 2 records long:
    const shorter = { ...file, size: 2 * R };
    const error = await failure(decryptAll(shorter, sealed.slice(0, 2 * (R + 16))));
    expect(error.code).toBe('RECORD_AUTH_FAILED');
    expect(error.message).toContain('record 1');
  });

  it('detects a record cut short', async () => {
    const file = await cipherFor(2 * R);
    const sealed = await encryptAll(file, patterned(file.size));
    const error = await failure(decryptRecord(file, 1, sealed.slice(R + 16, 2 * (R + 16) - 1)));
    expect(error.code).toBe('RECORD_TRUNCATED');
    expect(error.message).toContain('record 1');
  });

  it('detects reordered records', async () => {
    const file = await cipherFor(3 * R);
    const sealed = await encryptAll(file, patterned(file.size));
    const reordered = new Uint8Array(sealed);
    reordered.set(sealed.slice(0, R + 16), R + 16);
    reordered.set(sealed.slice(R + 16, 2 * (R + 16)), 0);
    const error = await failure(decryptAll(file, reordered));
    expect(error.code).toBe('RECORD_AUTH_FAILED');
    expect(error.message).toContain('record 0');
  });

  it('detects a record swapped in from another file of the same share', async () => {
    const a = await cipherFor(2 * R, 'a.txt');
    const b: FileCipher = { ...a, nonceBase: randomBytes(12), name: 'b.txt' };
    const sealedA = await encryptAll(a, patterned(a.size));
    const sealedB = await encryptAll(b, patterned(b.size));
    const swapped = new Uint8Array(sealedB);
    swapped.set(sealedA.slice(0, R + 16), 0);
    const error = await failure(decryptAll(b, swapped));
    expect(error.code).toBe('RECORD_AUTH_FAILED');
    expect(error.message).toContain('b.txt: record 0');
  });

  it('fails with a wrong key', async () => {
    const file = await cipherFor(R + 1, 'notes.md');
    const sealed = await encryptAll(file, patterned(file.size));
    const other = await cipherFor(R + 1, 'notes.md');
    const error = await failure(decryptAll({ ...other, nonceBase: file.nonceBase }, sealed));
    expect(error.code).toBe('RECORD_AUTH_FAILED');
    expect(error.message).toContain('notes.md: record 0');
  });

  it('refuses plaintext of the wrong length for a record, and a record past the last', async () => {
    const file = await cipherFor(R + 1);
    expect((await failure(encryptRecord(file, 1, new Uint8Array(2)))).code).toBe('CONTENT_CHANGED');
    await expect(encryptRecord(file, 2, new Uint8Array(0))).rejects.toThrow(RangeError);
  });

  it('reports content that shrank while being read', async () => {
    const file = await cipherFor(2 * R);
    const error = await failure(encryptRange(file, async () => new Uint8Array(10), 0, 100));
    expect(error.code).toBe('CONTENT_CHANGED');
  });
});
