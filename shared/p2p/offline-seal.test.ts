import { describe, expect, it } from 'vitest';
import { randomBytes, toBase64Url } from '../encoding.ts';
import { deriveOfflineKey } from '../keys.ts';
import { type OfflineBinding, openOffline, sealOffline } from './offline-seal.ts';

const id = (n: number) => toBase64Url(randomBytes(n));
const binding: OfflineBinding = { room: `pair:${id(16)}`, from: id(16), to: id(16), transfer: id(16) };
const offer = { secret: id(16), senderName: 'Office laptop' };

describe('sealed offline messages between paired devices', () => {
  const secret = randomBytes(32);

  it('opens what the other device sealed for it: the offer, its transfer, an answer and a completion', async () => {
    const key = await deriveOfflineKey(secret);
    const sealed = await sealOffline(await deriveOfflineKey(secret), 'offer', binding, offer);
    expect(sealed.transfer).toBe(binding.transfer);
    expect(sealed.box).not.toContain(offer.secret);
    const { room, from, to } = binding;
    await expect(openOffline(key, 'offer', { room, from, to }, JSON.parse(JSON.stringify(sealed)))).resolves.toEqual({
      transfer: binding.transfer,
      payload: offer,
    });
    const back = { room, from: to, to: from, transfer: binding.transfer };
    const answer = await sealOffline(key, 'answer', back, { accept: false });
    expect((await openOffline(key, 'answer', { room, from: to, to: from }, answer)).payload).toEqual({ accept: false });
    const complete = await sealOffline(key, 'complete', back, {});
    expect((await openOffline(key, 'complete', { room, from: to, to: from }, complete)).transfer).toBe(
      binding.transfer,
    );
  });

  it('refuses a box sealed under another pairing secret', async () => {
    const sealed = await sealOffline(await deriveOfflineKey(randomBytes(32)), 'offer', binding, offer);
    await expect(openOffline(await deriveOfflineKey(secret), 'offer', binding, sealed)).rejects.toMatchObject({
      code: 'WRONG_KEY',
    });
  });

  it('refuses a box moved to another room, turned back to its sender, or sent by a third device', async () => {
    const key = await deriveOfflineKey(secret);
    const sealed = await sealOffline(key, 'offer', binding, offer);
    const { room, from, to } = binding;
    await expect(openOffline(key, 'offer', { room: `pair:${id(16)}`, from, to }, sealed)).rejects.toMatchObject({
      code: 'WRONG_KEY',
    });
    await expect(openOffline(key, 'offer', { room, from: to, to: from }, sealed)).rejects.toMatchObject({
      code: 'WRONG_KEY',
    });
    await expect(openOffline(key, 'offer', { room, from: id(16), to }, sealed)).rejects.toMatchObject({
      code: 'WRONG_KEY',
    });
  });

  it('refuses a box relabelled with another transfer id, or an answer passed off as an offer', async () => {
    const key = await deriveOfflineKey(secret);
    const sealed = await sealOffline(key, 'offer', binding, offer);
    const { room, from, to } = binding;
    await expect(openOffline(key, 'offer', { room, from, to }, { ...sealed, transfer: id(16) })).rejects.toMatchObject({
      code: 'WRONG_KEY',
    });
    const answer = await sealOffline(key, 'answer', binding, { accept: true });
    await expect(openOffline(key, 'offer', { room, from, to }, { ...answer, kind: 'offer' })).rejects.toMatchObject({
      code: 'WRONG_KEY',
    });
    await expect(openOffline(key, 'offer', { room, from, to }, answer)).rejects.toMatchObject({ code: 'WRONG_KEY' });
  });

  it('refuses a changed byte, and anything that is not a sealed message at all', async () => {
    const key = await deriveOfflineKey(secret);
    const sealed = await sealOffline(key, 'offer', binding, offer);
    const flipped = `${sealed.box.slice(0, 20)}${sealed.box[20] === 'A' ? 'B' : 'A'}${sealed.box.slice(21)}`;
    await expect(openOffline(key, 'offer', binding, { ...sealed, box: flipped })).rejects.toMatchObject({
      code: 'WRONG_KEY',
    });
    await expect(openOffline(key, 'offer', binding, { ...sealed, box: 'x'.repeat(5000) })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    });
    await expect(openOffline(key, 'offer', binding, 'offer')).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await expect(openOffline(key, 'offer', binding, { ...sealed, extra: 1 })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    });
  });

  it('will not seal a payload that does not fit its kind, nor for a room that is not a pair room', async () => {
    const key = await deriveOfflineKey(secret);
    await expect(sealOffline(key, 'offer', binding, { secret: 'short', senderName: 'x' })).rejects.toThrow();
    await expect(sealOffline(key, 'offer', { ...binding, room: `network:${id(16)}` }, offer)).rejects.toThrow();
  });
});
