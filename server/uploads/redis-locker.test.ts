/**
 * The Redis tus locker against a real Redis (the test engines'), with two lockers on their
 * own connections standing in for two nodes: contention, release on request across
 * lockers, a holder that dies, renewal past the ttl, cancellation by the request's signal.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ERRORS } from '@tus/server';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { redisUrl } from '../test-engines/databases.ts';
import { RedisLocker, type RedisLockerOptions } from './redis-locker.ts';

const opened: Array<{ locker: RedisLocker; redis: Redis }> = [];

/** A locker on two connections of its own, as a node has. */
async function node(options: Partial<RedisLockerOptions> = {}): Promise<RedisLocker> {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  const locker = new RedisLocker({ redis, subscriber: redis.duplicate(), ...options });
  await locker.ready();
  opened.push({ locker, redis });
  return locker;
}

afterEach(async () => {
  for (const { locker, redis } of opened.splice(0)) {
    await locker.close();
    redis.disconnect();
  }
});

const uploadId = () => randomBytes(8).toString('hex');
const never = () => new AbortController().signal;

describe('RedisLocker (two nodes, one Redis)', () => {
  it('gives an upload to one holder at a time; the waiter gets it once the holder unlocks', async () => {
    const [a, b] = [await node(), await node()];
    const id = uploadId();
    const aLock = a.newLock(id);
    let aAsked = 0;
    await aLock.lock(never(), () => {
      aAsked++;
    });
    const bLock = b.newLock(id);
    let bHeld = false;
    const bTaking = bLock
      .lock(never(), () => undefined)
      .then(() => {
        bHeld = true;
      });
    await sleep(300);
    expect(bHeld).toBe(false);
    // The waiter asked the holder (on the other node) to release.
    expect(aAsked).toBeGreaterThanOrEqual(1);
    const released = Date.now();
    await aLock.unlock();
    await bTaking;
    // Woken by the release notice, not a late poll.
    expect(Date.now() - released).toBeLessThan(100);
    await bLock.unlock();
  });

  it('a holder that releases when asked hands the upload to the other node at once', async () => {
    const [a, b] = [await node(), await node({ pollMs: 5_000 })];
    const id = uploadId();
    const aLock = a.newLock(id);
    // As tus does: requestRelease cancels the request, whose handler then unlocks.
    await aLock.lock(never(), () => void aLock.unlock());
    const started = Date.now();
    await b.newLock(id).lock(never(), () => undefined);
    // Well under the 5 s poll: the request crossed by pub/sub and the release woke b.
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a holder that dies frees the upload when its lock expires, not before', async () => {
    const [a, b] = [await node({ ttlMs: 600 }), await node({ ttlMs: 600, pollMs: 20 })];
    const id = uploadId();
    await a.newLock(id).lock(never(), () => undefined);
    // The node dies: no renewal, no answer to release requests, no unlock.
    const died = Date.now();
    await a.close();
    await b.newLock(id).lock(never(), () => undefined);
    const waited = Date.now() - died;
    expect(waited).toBeGreaterThanOrEqual(400);
    expect(waited).toBeLessThan(3_000);
  });

  it('a live holder keeps its lock past the ttl by renewing it', async () => {
    const [a, b] = [await node({ ttlMs: 300 }), await node({ ttlMs: 300, acquireTimeoutMs: 1_000 })];
    const id = uploadId();
    const aLock = a.newLock(id);
    await aLock.lock(never(), () => undefined);
    await expect(b.newLock(id).lock(never(), () => undefined)).rejects.toBe(ERRORS.ERR_LOCK_TIMEOUT);
    await aLock.unlock();
  });

  it("only the owner releases: an expired holder's unlock leaves the new holder's lock alone", async () => {
    const [a, b, c] = [await node({ ttlMs: 300 }), await node({ pollMs: 20 }), await node({ acquireTimeoutMs: 800 })];
    const id = uploadId();
    const aLock = a.newLock(id);
    let aAsked = 0;
    await aLock.lock(never(), () => {
      aAsked++;
    });
    // Stall a past its ttl without renewal (as a frozen process would be).
    await a.close();
    await sleep(a.ttlMs + 100);
    await b.newLock(id).lock(never(), () => undefined);
    await aLock.unlock();
    // b still holds it: c times out.
    await expect(c.newLock(id).lock(never(), () => undefined)).rejects.toBe(ERRORS.ERR_LOCK_TIMEOUT);
    expect(aAsked).toBe(0);
  });

  it("a waiter whose request goes away stops waiting with tus's lock timeout, leaving the lock", async () => {
    const [a, b, c] = [await node(), await node(), await node({ acquireTimeoutMs: 500 })];
    const id = uploadId();
    const aLock = a.newLock(id);
    await aLock.lock(never(), () => undefined);
    const gone = new AbortController();
    const waiting = b.newLock(id).lock(gone.signal, () => undefined);
    await sleep(100);
    const aborted = Date.now();
    gone.abort();
    await expect(waiting).rejects.toBe(ERRORS.ERR_LOCK_TIMEOUT);
    expect(Date.now() - aborted).toBeLessThan(200);
    await expect(c.newLock(id).lock(never(), () => undefined)).rejects.toBe(ERRORS.ERR_LOCK_TIMEOUT);
    await aLock.unlock();
    await c.newLock(id).lock(never(), () => undefined);
  });

  it('different uploads do not contend, and unlocking twice is an error', async () => {
    const [a, b] = [await node(), await node()];
    const first = a.newLock(uploadId());
    await first.lock(never(), () => undefined);
    const second = b.newLock(uploadId());
    await second.lock(never(), () => undefined);
    await first.unlock();
    await second.unlock();
    await expect(first.unlock()).rejects.toThrow('Releasing an unlocked lock!');
  });
});
