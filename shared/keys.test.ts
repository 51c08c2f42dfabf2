import { describe, expect, it } from 'vitest';
import { randomBytes } from './encoding.ts';
import { deriveFileKey, deriveFileKeyBytes, deriveShareKeys, importAesKey, newSecret, tokenHash } from './keys.ts';
import { decryptRecord, encryptRecord, type FileCipher } from './records.ts';

describe('share keys', () => {
  it('derives the same keys from the same secret and different ones from another', async () => {
    const secret = newSecret();
    const a = await deriveShareKeys(secret);
    const b = await deriveShareKeys(new Uint8Array(secret));
    const c = await deriveShareKeys(newSecret());
    expect(a.readerToken).toBe(b.readerToken);
    expect(a.readerToken).not.toBe(c.readerToken);
    expect(a.readerToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const nonce = randomBytes(12);
    expect(await deriveFileKeyBytes(a.contentKey, nonce)).toEqual(await deriveFileKeyBytes(b.contentKey, nonce));
    expect(await deriveFileKeyBytes(a.contentKey, nonce)).not.toEqual(await deriveFileKeyBytes(c.contentKey, nonce));
  });

  it('gives each file its own key: a key handed on for one file opens no other', async () => {
    const { contentKey } = await deriveShareKeys(newSecret());
    const nonceA = randomBytes(12);
    const nonceB = randomBytes(12);
    const layout = { size: 5, recordSize: 1024 };
    const b: FileCipher = { ...layout, name: 'b', nonceBase: nonceB, key: await deriveFileKey(contentKey, nonceB) };
    const sealedB = await encryptRecord(b, 0, new Uint8Array([1, 2, 3, 4, 5]));
    // Someone given file A's raw key (as dedup does) tries it on file B.
    const keyOfA = await importAesKey(await deriveFileKeyBytes(contentKey, nonceA));
    await expect(decryptRecord({ ...b, key: keyOfA }, 0, sealedB)).rejects.toThrow('b: record 0 failed verification');
    expect(await decryptRecord(b, 0, sealedB)).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
  });

  it('hashes tokens to 64 hex characters', async () => {
    expect(await tokenHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
