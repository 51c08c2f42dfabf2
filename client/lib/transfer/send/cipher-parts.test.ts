import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../../shared/encoding.ts';
import { deriveFileKey, deriveShareKeys, newSecret } from '../../../../shared/keys.ts';
import { encryptedSize, encryptRange, type FileCipher } from '../../../../shared/records.ts';
import { encryptParts, plainSpan } from './cipher-parts.ts';

describe('encryptParts', () => {
  it('gives the same bytes as encryptRange for any range', async () => {
    const { contentKey } = await deriveShareKeys(newSecret());
    const size = 5000;
    const plain = randomBytes(size);
    const nonceBase = randomBytes(12);
    const cipher: FileCipher = {
      key: await deriveFileKey(contentKey, nonceBase),
      nonceBase,
      size,
      recordSize: 1024,
      name: 'x',
    };
    const read = async (s: number, e: number) => plain.slice(s, e);
    const total = encryptedSize(cipher);
    for (const [start, end] of [
      [0, total],
      [0, 1],
      [1, 1040],
      [1039, 1041],
      [1040, 3000],
      [17, total],
      [total, total],
      [5, 1e9],
    ] as const) {
      const [ps, pe] = plainSpan(cipher, start, end);
      const parts = await encryptParts(cipher, plain.slice(ps, pe), start, end);
      const got = new Uint8Array(await new Blob(parts).arrayBuffer());
      expect(got).toEqual(await encryptRange(cipher, read, start, end));
    }
    await expect(encryptParts(cipher, plain.slice(0, 10), 0, total)).rejects.toThrow(/changed size/);
  });
});
