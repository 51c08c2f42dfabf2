/**
 * One sweeper at a time: two sweepers on one store and one Redis lease. Only the holder
 * sweeps; a lease that expires (its holder stopped renewing) passes to the other; a holder
 * that stops gives it up at once.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './log.ts';
import { openRedis } from './redis.ts';
import { RedisSweepLease, SOLE_LEASE } from './sweep-lease.ts';
import { Sweeper } from './sweeper.ts';
import { redisUrl } from './test-engines/databases.ts';
import { startTestServer, type TestServer } from './test-support.ts';

const TTL_MS = 300;
let ferry: TestServer;
let redis: Redis;
beforeAll(async () => {
  ferry = await startTestServer();
  redis = await openRedis(redisUrl());
});
afterAll(async () => {
  redis.disconnect();
  await ferry.stop();
});

/** A sweeper on the test server's stores under `lease`; `passes` counts the passes it ran. */
function sweeper(lease: RedisSweepLease) {
  const counted = { passes: 0 };
  const sweeper = new Sweeper({
    shares: ferry.shares,
    blobs: ferry.blobs,
    requests: ferry.requests,
    now: () => ferry.clock.now,
    ticketIdleMs: 60_000,
    logger: createLogger({ level: 'silent' }),
    onPass: () => {
      counted.passes++;
    },
    lease,
  });
  return Object.assign(counted, { sweeper });
}

describe('the sweeper lease', () => {
  it('lets one of two sweepers sweep; the other takes over when the lease expires or is given up', async () => {
    const key = `ferry:test:${randomBytes(6).toString('hex')}:lease`;
    const a = sweeper(new RedisSweepLease(redis, 'node-a', { key, ttlMs: TTL_MS }));
    const b = sweeper(new RedisSweepLease(redis, 'node-b', { key, ttlMs: TTL_MS }));
    await a.sweeper.sweep();
    for (let i = 0; i < 5; i++) await Promise.all([a.sweeper.sweep(), b.sweeper.sweep()]);
    expect([a.passes, b.passes]).toEqual([6, 0]);
    expect(await redis.get(key)).toBe('node-a');

    // a stalls past the lease's life without renewing: b takes the lease, and a no longer sweeps.
    await sleep(TTL_MS + 100);
    await b.sweeper.sweep();
    await a.sweeper.sweep();
    expect([a.passes, b.passes]).toEqual([6, 1]);
    expect(await redis.get(key)).toBe('node-b');

    // b stops: it gives the lease up at once, and a sweeps again without waiting for expiry.
    await b.sweeper.stop();
    expect(await redis.get(key)).toBeNull();
    await a.sweeper.sweep();
    expect([a.passes, b.passes]).toEqual([7, 1]);
    await a.sweeper.stop();
  });

  it('is always held without Redis', async () => {
    expect(await SOLE_LEASE.hold()).toBe(true);
  });
});
