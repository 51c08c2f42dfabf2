import { describe, expect, it } from 'vitest';
import { PAIR_CODE_TTL_MS } from '../../shared/signaling.ts';
import { displayName } from './display-name.ts';
import { hashToken, MemoryPairRoomStore, newPairRoom, PAIR_ROOM_TTL_MS, PairingCodes } from './pairing.ts';
import { KeyedBuckets } from './token-bucket.ts';

describe('PairingCodes', () => {
  it('makes 6-digit codes that work once, for another peer, until they expire', () => {
    const codes = new PairingCodes(() => 42);
    const made = codes.create('a', 1000)!;
    expect(made).toEqual({ code: '000042', expiresAt: 1000 + PAIR_CODE_TTL_MS });
    expect(codes.redeem('000042', 'a', 1001)).toEqual({ ok: false, reason: 'own-code' });
    expect(codes.redeem('000042', 'b', 1001)).toEqual({ ok: true, creator: 'a' });
    expect(codes.redeem('000042', 'c', 1002)).toEqual({ ok: false, reason: 'unknown' });

    const again = codes.create('a', 2000)!;
    expect(codes.redeem(again.code, 'b', again.expiresAt)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('keeps one code per creator and never hands out a live code twice', () => {
    let n = 0;
    const codes = new PairingCodes(() => [7, 7, 8][n++ % 3]!);
    const first = codes.create('a', 0)!;
    const second = codes.create('b', 0)!;
    expect(first.code).toBe('000007');
    expect(second.code).toBe('000008');
    codes.create('a', 0);
    expect(codes.size).toBe(2);
    codes.drop('a');
    codes.drop('b');
    expect(codes.size).toBe(0);
  });
});

describe('MemoryPairRoomStore', () => {
  it('opens a room only with its token, and forgets it after the TTL without use', async () => {
    const store = new MemoryPairRoomStore();
    const { room, token, tokenHash } = newPairRoom();
    expect(room).toMatch(/^pair:[A-Za-z0-9_-]{16}$/);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await store.create(room, tokenHash, 0);
    expect(await store.verify(room, hashToken(token), 10)).toBe(true);
    expect(await store.verify(room, hashToken(`${token.slice(1)}x`), 10)).toBe(false);
    expect(await store.verify(room, hashToken(token), 10 + PAIR_ROOM_TTL_MS - 1)).toBe(true);
    expect(await store.verify(room, hashToken(token), 10 + 2 * PAIR_ROOM_TTL_MS)).toBe(false);
  });
});

describe('KeyedBuckets', () => {
  it('allows `count` per window per key and refills over the window', () => {
    const buckets = new KeyedBuckets(3, 600);
    for (let i = 0; i < 3; i++) expect(buckets.take('ip', 0)).toBe(true);
    expect(buckets.available('ip', 0)).toBe(false);
    expect(buckets.take('ip', 0)).toBe(false);
    expect(buckets.take('other', 0)).toBe(true);
    expect(buckets.take('ip', 200)).toBe(true);
    expect(buckets.take('ip', 200)).toBe(false);
  });
});

describe('displayName', () => {
  it('is deterministic and reads "Adjective Animal"', () => {
    expect(displayName(0)).toBe('Amber Badger');
    expect(displayName(123456)).toBe(displayName(123456));
    expect(displayName(0xffffffff)).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
  });
});
