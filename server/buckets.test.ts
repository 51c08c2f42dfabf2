/**
 * Both Buckets against one conformance suite, and what only the Redis buckets do: two nodes
 * on one Redis share one budget, idle keys vanish, and a Redis that is away refuses the take
 * with ENGINE_UNAVAILABLE instead of holding the request.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { bucketsConformance } from './buckets.conformance.ts';
import { MemoryBuckets } from './buckets.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { openRedis } from './redis.ts';
import { RedisBuckets, redisBuckets } from './redis-buckets.ts';
import { redisUrl } from './test-engines/databases.ts';

const connections: Redis[] = [];
afterAll(() => {
  for (const redis of connections) redis.disconnect();
});

/** A connection of its own, as a node has. */
async function node(): Promise<Redis> {
  const redis = await openRedis(redisUrl());
  connections.push(redis);
  return redis;
}

/** Each test's keys under a prefix of their own. */
const ownPrefix = () => `ferry:test:${randomBytes(6).toString('hex')}:`;

bucketsConformance('memory', async (burst, perMs) => new MemoryBuckets(burst, perMs));
bucketsConformance('redis', async (burst, perMs) => new RedisBuckets(await node(), ownPrefix(), burst, perMs));

describe('redis buckets', () => {
  it('give two nodes one budget: a burst of 30 taken from both at once allows 30 in all', async () => {
    const prefix = ownPrefix();
    const nodes = [await node(), await node()].map((redis) => redisBuckets(redis, prefix));
    const limiters = nodes.map((buckets) => new RateLimiter(buckets, 'create', { burst: 30, perMinute: 1 }));
    const now = Date.now();
    // 60 attempts, 30 from each node, all in flight together.
    const tries = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) => limiters[i % 2]!.take('203.0.113.7', now)),
    );
    expect(tries.filter((t) => t.status === 'fulfilled')).toHaveLength(30);
    const refused = tries.filter((t) => t.status === 'rejected');
    expect(refused).toHaveLength(30);
    for (const r of refused) {
      expect(r.reason).toMatchObject({ code: 'RATE_LIMITED', headers: { 'Retry-After': '60' } });
    }
  });

  it('forget a key once its bucket would be full again', async () => {
    const redis = await node();
    const prefix = ownPrefix();
    const buckets = new RedisBuckets(redis, prefix, 10, 1 / 100);
    await buckets.take('k', Date.now());
    await buckets.take('k', Date.now());
    // Two tokens missing at 1 per 100 ms: the key lives about 200 ms.
    const ttl = await redis.pttl(`${prefix}k`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(200);
    await expect.poll(() => redis.exists(`${prefix}k`), { timeout: 2000, interval: 50 }).toBe(0);
    // A refusal or a look writes nothing.
    await buckets.available('other', Date.now());
    expect(await redis.exists(`${prefix}other`)).toBe(0);
  });

  it('refuse with ENGINE_UNAVAILABLE, at once, while Redis cannot be reached', async () => {
    const redis = await node();
    const limiter = new RateLimiter(redisBuckets(redis, ownPrefix()), 'create', { burst: 5, perMinute: 5 });
    redis.disconnect();
    const started = performance.now();
    await expect(limiter.take('203.0.113.7', Date.now())).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
