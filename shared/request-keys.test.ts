import { describe, expect, it } from 'vitest';
import { toBase64Url } from './encoding.ts';
import { FerryError } from './errors.ts';
import { deriveShareKeys } from './keys.ts';
import { publicKeySchema } from './request-api.ts';
import {
  exportPrivateKey,
  exportPublicKey,
  importPrivateKey,
  importPublicKey,
  newRequesterKeys,
  requesterUploadSecret,
  senderUploadSecret,
} from './request-keys.ts';
import { formatRequestLink, MAX_NOTE_LENGTH, noteProblem, requestFragment, requestIdOfPath } from './request-link.ts';

const REQUEST_ID = 'AAAAbbbbCCCCdddd';

describe('request keys', () => {
  it('keeps an exportable private key as PKCS #8 text that derives the same secret once read back', async () => {
    const requester = await newRequesterKeys(true);
    const requesterKey = await exportPublicKey(requester.publicKey);
    const { senderKey, secret } = await senderUploadSecret(REQUEST_ID, requesterKey);
    const text = await exportPrivateKey(requester.privateKey);
    const restored = await importPrivateKey(text);
    expect(restored.extractable).toBe(false);
    expect(await requesterUploadSecret(restored, { requestId: REQUEST_ID, requesterKey, senderKey })).toEqual(secret);
    // The app's keys stay non-extractable; a damaged file is WRONG_KEY.
    await expect(exportPrivateKey((await newRequesterKeys()).privateKey)).rejects.toThrow();
    await expect(importPrivateKey(text.slice(0, -8))).rejects.toEqual(expect.any(FerryError));
  });

  it('lets the requester derive the secret the sender used, and no other requester', async () => {
    const requester = await newRequesterKeys();
    const other = await newRequesterKeys();
    const requesterKey = await exportPublicKey(requester.publicKey);
    const { senderKey, secret } = await senderUploadSecret(REQUEST_ID, requesterKey);
    expect(secret).toHaveLength(16);

    const binding = { requestId: REQUEST_ID, requesterKey, senderKey };
    const derived = await requesterUploadSecret(requester.privateKey, binding);
    expect(derived).toEqual(secret);
    // The whole share follows: the same reader token opens the same share.
    expect((await deriveShareKeys(derived)).readerToken).toBe((await deriveShareKeys(secret)).readerToken);

    expect(await requesterUploadSecret(other.privateKey, binding)).not.toEqual(secret);
  });

  it('binds the secret to the request and to both public keys', async () => {
    const requester = await newRequesterKeys();
    const requesterKey = await exportPublicKey(requester.publicKey);
    const { senderKey, secret } = await senderUploadSecret(REQUEST_ID, requesterKey);
    const otherId = await requesterUploadSecret(requester.privateKey, {
      requestId: 'ZZZZbbbbCCCCdddd',
      requesterKey,
      senderKey,
    });
    expect(otherId).not.toEqual(secret);
    const second = await senderUploadSecret(REQUEST_ID, requesterKey);
    expect(second.senderKey).not.toBe(senderKey);
    expect(second.secret).not.toEqual(secret);
  });

  it('refuses public keys that are not P-256 points', async () => {
    const requester = await newRequesterKeys();
    const good = await exportPublicKey(requester.publicKey);
    expect(good).toMatch(/^B[A-P][A-Za-z0-9_-]{85}$/);
    await expect(importPublicKey(good)).resolves.toBeDefined();
    // Right length and prefix, but y does not match x: not on the curve.
    const offCurve = `${good.slice(0, 60)}${good[60] === 'A' ? 'B' : 'A'}${good.slice(61)}`;
    await expect(importPublicKey(offCurve)).rejects.toMatchObject({ code: 'INVALID_BODY' });
    await expect(importPublicKey('not-a-key')).rejects.toMatchObject({ code: 'INVALID_BODY' });
    await expect(senderUploadSecret(REQUEST_ID, good.slice(0, 43))).rejects.toMatchObject({ code: 'INVALID_BODY' });
  });

  it('takes each key in one spelling only, since the secret binds the text', async () => {
    const requester = await newRequesterKeys();
    const good = await exportPublicKey(requester.publicKey);
    // The last character carries 4 bits and 2 unused ones: setting one of those spells the
    // same point differently, and a sender binding that text would derive a secret the
    // requester (binding its own spelling) never could.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const other = `${good.slice(0, 86)}${alphabet[alphabet.indexOf(good.at(-1)!) + 1]}`;
    expect(publicKeySchema.safeParse(other).success).toBe(false);
    await expect(importPublicKey(other)).rejects.toMatchObject({ code: 'INVALID_BODY' });
    await expect(senderUploadSecret(REQUEST_ID, other)).rejects.toMatchObject({ code: 'INVALID_BODY' });
    expect(() => requestFragment(`#${other}`)).toThrow('its key is not readable');
  });
});

describe('request links', () => {
  it('round-trips the id, the key and a note, and refuses damaged ones', async () => {
    const key = await exportPublicKey((await newRequesterKeys()).publicKey);
    const note = 'Scans for the 2026 tax return — merci, 谢谢';
    const url = new URL(formatRequestLink('https://ferry.example', { id: REQUEST_ID, key, note }));
    expect(requestIdOfPath(url.pathname)).toBe(REQUEST_ID);
    expect(requestFragment(url.hash)).toEqual({ key, note });
    const bare = new URL(formatRequestLink('https://ferry.example', { id: REQUEST_ID, key, note: '' }));
    expect(bare.hash).toBe(`#${key}`);
    expect(requestFragment(bare.hash)).toEqual({ key, note: '' });

    expect(requestIdOfPath('/s/AAAAbbbbCCCCdddd')).toBeNull();
    expect(requestIdOfPath('/r/short')).toBeNull();
    expect(() => requestFragment('')).toThrow('the part after # is missing');
    expect(() => requestFragment(`#${key.slice(1)}`)).toThrow('its key is not readable');
    expect(() => requestFragment(`${url.hash}.more`)).toThrow('its key is not readable');
    expect(() => requestFragment(`#${key}.`)).toThrow('its note is not readable');
    expect(() => requestFragment(`#${key}.${toBase64Url(new Uint8Array([0xff, 0xfe]))}`)).toThrow(
      'its note is not readable',
    );
    expect(() => requestFragment(`#${key}.${toBase64Url(new TextEncoder().encode('a\u202eb'))}`)).toThrow(
      'its note is not readable',
    );
  });

  it('keeps notes short and free of control and direction characters', () => {
    expect(noteProblem('Holiday photos, please')).toBeNull();
    expect(noteProblem('x'.repeat(MAX_NOTE_LENGTH + 1))).toContain('under 200 characters');
    expect(noteProblem('line\nbreak')).toContain('cannot contain');
  });
});
