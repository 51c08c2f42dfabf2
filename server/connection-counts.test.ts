/**
 * Connections per key, in memory and in Redis: the same rules on both, then what only Redis
 * does: two nodes share one cap, a dead node's connections stop counting once its presence
 * expires, and a close that Redis missed is written by the next flush.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ConnectionCounts,
  KEY_TTL_MS,
  MemoryConnectionCounts,
  RedisConnectionCounts,
} from './connection-counts.ts';
import { openRedis } from './redis.ts';
import { redisUrl } from './test-engines/databases.ts';

const connections: Redis[] = [];
afterAll(() => {
  for (const redis of connections) redis.disconnect();
});

async function connect(): Promise<Redis> {
  const redis = await openRedis(redisUrl());
  connections.push(redis);
  return redis;
}

/** A cluster of nodes under one fresh prefix; `node(id, ttlMs)` is a node whose presence lasts `ttlMs`. */
async function cluster() {
  const prefix = `ferry:test:${randomBytes(6).toString('hex')}:`;
  const presence = `${prefix}node:`;
  const admin = await connect();
  return {
    admin,
    key: (k: string) => `${prefix}conn:${k}`,
    async node(id: string, ttlMs = 60_000): Promise<RedisConnectionCounts> {
      await admin.set(presence + id, '1', 'PX', ttlMs);
      return new RedisConnectionCounts(await connect(), { prefix: `${prefix}conn:`, node: id, presence });
    },
  };
}

const backends: Array<[string, () => Promise<ConnectionCounts>]> = [
  ['memory', async () => new MemoryConnectionCounts()],
  ['redis', async () => (await cluster()).node('a')],
];

for (const [name, make] of backends) {
  describe(`${name} connection counts`, () => {
    it('count up to the cap per key, refuse beyond it, and free a place on close', async () => {
      const counts = await make();
      for (let i = 0; i < 3; i++) expect(await counts.open('net', 3)).toBe(true);
      expect(await counts.open('net', 3)).toBe(false);
      expect(await counts.open('other', 3)).toBe(true);
      counts.close('net');
      await counts.flush();
      expect(await counts.open('net', 3)).toBe(true);
      expect(await counts.open('net', 3)).toBe(false);
    });

    it('count opens made at once exactly', async () => {
      const counts = await make();
      const opened = await Promise.all(Array.from({ length: 20 }, () => counts.open('net', 7)));
      expect(opened.filter(Boolean)).toHaveLength(7);
    });
  });
}

describe('redis connection counts', () => {
  it('share one cap between nodes', async () => {
    const { node } = await cluster();
    const [a, b] = [await node('a'), await node('b')];
    const opened = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).open('net', 5)));
    expect(opened.filter(Boolean)).toHaveLength(5);
    expect(await a.open('net', 5)).toBe(false);
    // A close on one node frees a place on the other.
    expect(await a.open('other', 1)).toBe(true);
    expect(await b.open('other', 1)).toBe(false);
    a.close('other');
    await expect.poll(() => b.open('other', 1)).toBe(true);
  });

  it('stop counting a dead node once its presence expires, and delete its field', async () => {
    const { node, admin, key } = await cluster();
    const dying = await node('dying', 300);
    const alive = await node('alive');
    for (let i = 0; i < 3; i++) expect(await dying.open('net', 3)).toBe(true);
    expect(await alive.open('net', 3)).toBe(false);
    await expect.poll(() => alive.open('net', 3), { timeout: 3000, interval: 100 }).toBe(true);
    expect(await admin.hgetall(key('net'))).toEqual({ alive: '1' });
  });

  it('give every key an expiry, renewed by flush, so a dead node leaves nothing behind for good', async () => {
    const { node, admin, key } = await cluster();
    const counts = await node('n');
    expect(await counts.open('net', 3)).toBe(true);
    const ttl = await admin.pttl(key('net'));
    expect(ttl).toBeGreaterThan(KEY_TTL_MS - 5_000);
    expect(ttl).toBeLessThanOrEqual(KEY_TTL_MS);
    await admin.pexpire(key('net'), 1_000);
    await counts.flush();
    expect(await admin.pttl(key('net'))).toBeGreaterThan(KEY_TTL_MS - 5_000);
    expect(await admin.hget(key('net'), 'n')).toBe('1');
  });

  it("with whenAway 'count-here', cap only this node's own count while Redis is away, and write it when it returns", async () => {
    const { admin, key } = await cluster();
    const redis = await connect();
    const presence = `${key('')}presence:`;
    await admin.set(`${presence}n`, '1', 'PX', 60_000);
    await admin.set(`${presence}other`, '1', 'PX', 60_000);
    await admin.hset(key('net'), 'other', 2);
    const counts = new RedisConnectionCounts(redis, { prefix: key(''), node: 'n', presence, whenAway: 'count-here' });
    expect(await counts.open('net', 3)).toBe(true);
    expect(await counts.open('net', 3)).toBe(false);
    redis.disconnect();
    // Away: the other node's 2 cannot be seen; this node's own 1 is under 3, twice.
    expect(await counts.open('net', 3)).toBe(true);
    expect(await counts.open('net', 3)).toBe(true);
    expect(await counts.open('net', 3)).toBe(false);
    // disconnect() takes effect on the socket's close: connect only after it.
    await expect.poll(() => redis.status).toBe('end');
    await redis.connect();
    await counts.flush();
    expect(await admin.hget(key('net'), 'n')).toBe('3');
    expect(await counts.open('net', 10)).toBe(true);
    expect(await counts.open('net', 6)).toBe(false);
  });

  it('refuse with ENGINE_UNAVAILABLE while Redis is away, and write a missed close on the next flush', async () => {
    const { admin, key } = await cluster();
    const redis = await connect();
    const presence = `${key('')}presence:`;
    await admin.set(`${presence}n`, '1', 'PX', 60_000);
    const counts = new RedisConnectionCounts(redis, { prefix: key(''), node: 'n', presence });
    expect(await counts.open('net', 5)).toBe(true);
    expect(await counts.open('net', 5)).toBe(true);
    redis.disconnect();
    await expect(counts.open('net', 5)).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
    counts.close('net');
    // The close's own write fails in the background; a flush then fails the same way.
    await expect
      .poll(() =>
        counts.flush().then(
          () => 'written',
          (error: { code?: string }) => error.code,
        ),
      )
      .toBe('ENGINE_UNAVAILABLE');
    expect(await admin.hget(key('net'), 'n')).toBe('2');
    // disconnect() takes effect on the socket's close: connect only after it.
    await expect.poll(() => redis.status).toBe('end');
    await redis.connect();
    await counts.flush();
    expect(await admin.hget(key('net'), 'n')).toBe('1');
  });
});
