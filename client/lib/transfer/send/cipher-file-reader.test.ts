import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../../shared/encoding.ts';
import { deriveFileKey, deriveShareKeys, newSecret } from '../../../../shared/keys.ts';
import { decryptRecord, encryptedSize, encryptRange, type FileCipher } from '../../../../shared/records.ts';
import { cipherSourceOf, plainEndOf } from './cipher-file-reader.ts';

const R = 1024;

async function setup(size: number) {
  const { contentKey } = await deriveShareKeys(newSecret());
  const plain = randomBytes(size);
  const nonceBase = randomBytes(12);
  const cipher: FileCipher = {
    key: await deriveFileKey(contentKey, nonceBase),
    nonceBase,
    size,
    recordSize: R,
    name: 'x',
  };
  const read = async (s: number, e: number) => plain.slice(s, e);
  const asked: number[] = [];
  const source = cipherSourceOf({
    layout: cipher,
    encrypt: (s, e) => encryptRange(cipher, read, s, e),
    beforeEncrypt: async (p) => {
      asked.push(p);
    },
  });
  return { cipher, plain, source, asked };
}

async function bytesOf(value: Blob): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await value.arrayBuffer());
}

describe('cipher file reader', () => {
  it('reports the ciphertext length as the upload size', async () => {
    const { source } = await setup(5000);
    expect(source.size).toBe(encryptedSize({ size: 5000, recordSize: R }));
  });

  it('chunks in any size join to the same ciphertext, and done only at the end', async () => {
    const { source, cipher } = await setup(5000);
    const whole = await bytesOf((await source.slice(0, Number.POSITIVE_INFINITY)).value);
    for (const chunk of [1, 7, 1040, 3000]) {
      const parts: Uint8Array[] = [];
      for (let o = 0; o < source.size; o += chunk) {
        const { value, done } = await source.slice(o, o + chunk);
        expect(done).toBe(o + chunk >= source.size);
        parts.push(await bytesOf(value));
      }
      expect(Buffer.concat(parts).equals(Buffer.from(whole))).toBe(true);
    }
    // The last record opens with the final flag.
    const last = whole.slice(4 * (R + 16));
    expect((await decryptRecord(cipher, 4, last)).length).toBe(5000 - 4 * R);
  });

  it('asks for hash coverage of exactly the records a slice touches', async () => {
    const { source, asked } = await setup(5000);
    await source.slice(0, 10);
    await source.slice(R + 16 - 1, R + 17);
    await source.slice(4 * (R + 16), 99999);
    expect(asked).toEqual([R, 2 * R, 5000]);
  });

  it('empty file: one 16-byte record', async () => {
    const { source } = await setup(0);
    expect(source.size).toBe(16);
    const { value, done } = await source.slice(0, 8 * 1024 * 1024);
    expect(value.size).toBe(16);
    expect(done).toBe(true);
    expect(plainEndOf({ size: 0, recordSize: R }, 16)).toBe(0);
  });
});
