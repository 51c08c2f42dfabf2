import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { displayName } from '../../shared/display-name.ts';
import { PAIR_CODE_TTL_MS } from '../../shared/signaling.ts';
import { openRedis } from '../redis.ts';
import { postgresDatabases, redisUrl } from '../test-engines/databases.ts';
import {
  hashToken,
  MemoryPairRoomStore,
  newPairRoom,
  PAIR_ROOM_TTL_MS,
  type PairingCodeStore,
  PairingCodes,
  type PairRoomStore,
} from './pairing.ts';
import { openPostgresSignalingStores } from './postgres-signaling.ts';
import { RedisPairingCodes } from './redis-pairing.ts';
import { openSqliteSignalingStores, type SignalingStores } from './sqlite-signaling.ts';

let redis: Redis | undefined;
afterAll(() => redis?.disconnect());
/** Pairing codes in Redis under a prefix of their own. */
async function redisCodes(random: () => number): Promise<PairingCodeStore> {
  redis ??= await openRedis(redisUrl());
  return new RedisPairingCodes(redis, { prefix: `ferry:test:${randomBytes(6).toString('hex')}:`, random });
}

describe.each([
  ['PairingCodes (memory)', async (random: () => number): Promise<PairingCodeStore> => new PairingCodes(random)],
  ['RedisPairingCodes', redisCodes],
])('%s', (_, open) => {
  it('makes 6-digit codes that work once, for another peer, until they expire', async () => {
    const codes = await open(() => 42);
    const made = (await codes.create('a', 1000))!;
    expect(made).toEqual({ code: '000042', expiresAt: 1000 + PAIR_CODE_TTL_MS });
    expect(await codes.redeem('000042', 'a', 1001)).toEqual({ ok: false, reason: 'own-code' });
    expect(await codes.redeem('000042', 'b', 1001)).toEqual({ ok: true, creator: 'a' });
    expect(await codes.redeem('000042', 'c', 1002)).toEqual({ ok: false, reason: 'unknown' });

    const again = (await codes.create('a', 2000))!;
    expect(await codes.redeem(again.code, 'b', again.expiresAt)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('keeps one code per creator and never hands out a live code twice', async () => {
    let n = 0;
    const codes = await open(() => [7, 7, 8][n++ % 3]!);
    const first = (await codes.create('a', 0))!;
    const second = (await codes.create('b', 0))!;
    expect(first.code).toBe('000007');
    expect(second.code).toBe('000008');
    await codes.create('a', 0);
    expect(await codes.count(0)).toBe(2);
    await codes.drop('a');
    await codes.drop('b');
    expect(await codes.count(0)).toBe(0);
  });

  it('forgets expired codes, so their numbers can be handed out again', async () => {
    const codes = await open(() => 5);
    await codes.create('a', 0);
    expect(await codes.count(PAIR_CODE_TTL_MS)).toBe(0);
    expect(await codes.create('b', PAIR_CODE_TTL_MS)).toEqual({ code: '000005', expiresAt: 2 * PAIR_CODE_TTL_MS });
    // a's old entry no longer names this code: dropping a leaves b's code alone.
    await codes.drop('a');
    expect(await codes.redeem('000005', 'c', PAIR_CODE_TTL_MS + 1)).toEqual({ ok: true, creator: 'b' });
  });
});

// Registered first, so its databases are dropped after the stores below are closed.
const newDatabase = postgresDatabases();
const roomsDir = mkdtempSync(path.join(tmpdir(), 'ferry-pair-rooms-'));
const openedStores: SignalingStores[] = [];
afterAll(async () => {
  for (const stores of openedStores) await stores.close();
  rmSync(roomsDir, { recursive: true, force: true });
});
let roomFiles = 0;
function sqliteRooms(max?: number, file = path.join(roomsDir, `rooms-${roomFiles++}.db`)): PairRoomStore {
  const stores = openSqliteSignalingStores(file, max);
  openedStores.push(stores);
  return stores.pairRooms;
}
async function postgresRooms(max?: number, url?: string): Promise<PairRoomStore> {
  const stores = await openPostgresSignalingStores(url ?? (await newDatabase()), max);
  openedStores.push(stores);
  return stores.pairRooms;
}

describe.each([
  ['MemoryPairRoomStore', async (max?: number): Promise<PairRoomStore> => new MemoryPairRoomStore(max)],
  ['the SQLite pair room store', async (max?: number): Promise<PairRoomStore> => sqliteRooms(max)],
  ['the Postgres pair room store', (max?: number): Promise<PairRoomStore> => postgresRooms(max)],
])('%s', (_, open) => {
  it('opens a room only with its token, and forgets it after the TTL without use', async () => {
    const store = await open();
    const { room, token, tokenHash } = newPairRoom();
    expect(room).toMatch(/^pair:[A-Za-z0-9_-]{16}$/);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await store.create(room, tokenHash, 0);
    expect(await store.verify(room, hashToken(token), 10)).toBe(true);
    expect(await store.verify(room, hashToken(`${token.slice(1)}x`), 10)).toBe(false);
    expect(await store.verify(room, hashToken(token), 10 + PAIR_ROOM_TTL_MS - 1)).toBe(true);
    expect(await store.verify(room, hashToken(token), 10 + 2 * PAIR_ROOM_TTL_MS)).toBe(false);
  });

  it('when full, refuses new rooms with RATE_LIMITED instead of pushing out live ones; expired ones make room', async () => {
    const store = await open(3);
    const rooms = [newPairRoom(), newPairRoom(), newPairRoom()];
    for (const [i, r] of rooms.entries()) await store.create(r.room, r.tokenHash, i * 1000);
    const late = newPairRoom();
    await expect(store.create(late.room, late.tokenHash, 5000)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    for (const r of rooms) expect(await store.verify(r.room, hashToken(r.token), 5000)).toBe(true);
    // Room 0 is used again much later; rooms 1 and 2 expire, and their places are free.
    const later = 5000 + PAIR_ROOM_TTL_MS - 1;
    expect(await store.verify(rooms[0]!.room, hashToken(rooms[0]!.token), later)).toBe(true);
    await store.create(late.room, late.tokenHash, later + 10);
    expect(await store.verify(late.room, hashToken(late.token), later + 20)).toBe(true);
    expect(await store.verify(rooms[0]!.room, hashToken(rooms[0]!.token), later + 20)).toBe(true);
    expect(await store.verify(rooms[1]!.room, hashToken(rooms[1]!.token), later + 20)).toBe(false);
  });

  it('sweeps rooms unused for the TTL', async () => {
    const store = await open(1);
    const old = newPairRoom();
    await store.create(old.room, old.tokenHash, 0);
    await store.sweep(PAIR_ROOM_TTL_MS);
    expect(await store.verify(old.room, hashToken(old.token), 0)).toBe(false);
    const next = newPairRoom();
    await store.create(next.room, next.tokenHash, PAIR_ROOM_TTL_MS);
  });
});

describe('the SQLite pair room store', () => {
  it('keeps its rooms across a reopen of the file (a server restart), so devices stay paired', async () => {
    const file = path.join(roomsDir, 'restart.db');
    const first = openSqliteSignalingStores(file);
    const { room, token, tokenHash } = newPairRoom();
    await first.pairRooms.create(room, tokenHash, 0);
    await first.close();
    expect(await sqliteRooms(undefined, file).verify(room, hashToken(token), 10)).toBe(true);
  });
});

describe('the Postgres pair room store', () => {
  it('opens a room made on another node, and lets racing nodes fill it to its limit only', async () => {
    const url = await newDatabase();
    const nodes = [await postgresRooms(5, url), await postgresRooms(5, url), await postgresRooms(5, url)];
    const { room, token, tokenHash } = newPairRoom();
    await nodes[0]!.create(room, tokenHash, 0);
    expect(await nodes[1]!.verify(room, hashToken(token), 10)).toBe(true);
    const made = await Promise.allSettled(
      Array.from({ length: 12 }, (_, n) => nodes[n % nodes.length]!.create(newPairRoom().room, 'h', 20)),
    );
    expect(made.filter((m) => m.status === 'fulfilled')).toHaveLength(4);
    for (const m of made) if (m.status === 'rejected') expect(m.reason).toMatchObject({ code: 'RATE_LIMITED' });
  });
});

describe('displayName', () => {
  it('is deterministic and reads "Adjective Animal"', () => {
    expect(displayName(0)).toBe('Amber Badger');
    expect(displayName(123456)).toBe(displayName(123456));
    expect(displayName(0xffffffff)).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
  });
});
