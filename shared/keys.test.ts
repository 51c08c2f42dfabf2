import { describe, expect, it } from 'vitest';
import { randomBytes } from './encoding.ts';
import {
  deriveFileKey,
  deriveFileKeyBytes,
  deriveMacKey,
  deriveOfflineKey,
  derivePasswordWrapKey,
  deriveRequestSecret,
  deriveShareKeys,
  importAesKey,
  LABELS,
  newSecret,
  pairingCodeSecret,
  relayShareId,
  tokenHash,
} from './keys.ts';
import { fingerprintMac } from './p2p/auth.ts';
import { decryptRecord, encryptRecord } from './record-aead.ts';
import type { FileCipher } from './records.ts';

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

/**
 * Known answers: every derivation of the keychain from fixed inputs, computed before the
 * labels moved into keys.ts. A changed label or salt changes one of these, and would make
 * every link, pairing and relay share made before it unreadable.
 */
describe('keychain known answers', () => {
  const secret = new Uint8Array(16).map((_, i) => i);
  const pairing = new Uint8Array(32).map((_, i) => 255 - i);
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  /** An AES-GCM key's fingerprint: its tag over nothing with a zero IV. */
  const aesTag = async (key: CryptoKey) =>
    hex(
      new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, key, new Uint8Array())),
    );

  it('names each label once', () => {
    expect(new Set(Object.values(LABELS)).size).toBe(Object.keys(LABELS).length);
    for (const label of Object.values(LABELS)) expect(label).toMatch(/^ferry\/v1 /);
  });

  it('derives the share keys and a file key', async () => {
    const keys = await deriveShareKeys(secret);
    expect(keys.readerToken).toBe('j-Wd_nYt6uAYE2GlAm8keHfalUiYasFNwjh5itZZgXo');
    expect(await aesTag(keys.metaKey)).toBe('b50d3dd78eb0f1cac62575d2a3306cc9');
    expect(hex(await deriveFileKeyBytes(keys.contentKey, new Uint8Array(12).fill(7)))).toBe(
      '065c7fe52021232d9c2c3624712a7ba7935fb938c26994928b4d3a8213e163da',
    );
  });

  it('derives the password wrap key', async () => {
    expect(await aesTag(await derivePasswordWrapKey(pairing))).toBe(
      await aesTag(
        await importAesKey(
          Buffer.from(
            '67053fd214892771a9e17daebb326e707e36f47cb4efa2d42717ba30dac7b87f',
            'hex',
          ) as Uint8Array<ArrayBuffer>,
        ),
      ),
    );
  });

  it('derives a request upload secret from fixed ECDH keys', async () => {
    const curve = { name: 'ECDH', namedCurve: 'P-256' } as const;
    const requester = await crypto.subtle.importKey(
      'jwk',
      {
        kty: 'EC',
        crv: 'P-256',
        x: 'ZgFByWwhfPiv_tXEK9Ab1qDQK2_WXuSO5ujzWiZZtDY',
        y: 'OwAAIIHB2kcY5zZxpz9g989D1bGRJ3Z88exMGFnq1gs',
        d: 'tfp02tOvmvYMPU4k6Ui2QB853VNYsYy2k_GqWzH9GAU',
      },
      curve,
      false,
      ['deriveBits'],
    );
    const binding = {
      requestId: 'req1',
      requesterKey: 'BGYBQclsIXz4r_7VxCvQG9ag0Ctv1l7kjubo81omWbQ2OwAAIIHB2kcY5zZxpz9g989D1bGRJ3Z88exMGFnq1gs',
      senderKey: 'BBUCRw1NEzdZIifadKtH_DOIzaKtaQa2J72nmrRiWxiGtrAm0FmlGFhFsJdpHDs8Os-tmAHyjcu4T3zkYxJY71A',
    };
    const sender = await crypto.subtle.importKey('raw', Buffer.from(binding.senderKey, 'base64url'), curve, true, []);
    const bits = await crypto.subtle.deriveBits({ name: 'ECDH', public: sender }, requester, 256);
    expect(hex(await deriveRequestSecret(bits, binding))).toBe('2b31889d904d074d2340fe356830e220');
  });

  it('derives the peer-to-peer keys: MAC, pairing code, offline seal, relay id', async () => {
    expect(await relayShareId(secret)).toBe('bfZDA2CGYsjU9Qpy');
    expect(hex(await pairingCodeSecret('123456', 'pair:abcDEF'))).toBe(
      '5dbc6546b6ac435286224079d2895614b811f43a2122aebdc244a50d3d0fcc6a',
    );
    const sdpA = 'a=fingerprint:sha-256 AA:BB:CC\r\n';
    const sdpB = 'a=fingerprint:sha-256 11:22:33\r\n';
    expect(await fingerprintMac(await deriveMacKey(pairing), sdpA, sdpB, 'offerer')).toBe(
      'WrWpj8qXDwu8hkKbDy2XLIAuMmSw4kbncKBl11xcyyY',
    );
    expect(await aesTag(await deriveOfflineKey(pairing))).toBe('401e15cf6b69378a9737b3b86499e85c');
  });
});
