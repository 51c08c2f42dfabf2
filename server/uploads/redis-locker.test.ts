/**
 * The Redis tus locker against a real Redis (the test engines'), with lockers on their own
 * connections standing in for nodes: the locker suite every Locker passes, then what only
 * expiry and renewal do: a request that outlives the ttl many times keeps its lock, a node
 * killed (SIGKILL, a real process) while holding one frees it when the key expires, a holder
 * that cannot renew stops its request before the key can expire, and only the owner
 * releases.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ERRORS } from '@tus/server';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { uploadLockTtlMs } from '../config.ts';
import { redisUrl } from '../test-engines/databases.ts';
import { lockerConformance, startTaking } from './locker.conformance.ts';
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

let adminConnection: Redis | undefined;
/** A plain connection for looking at the keys. */
const admin = (): Redis => {
  adminConnection ??= new Redis(redisUrl());
  return adminConnection;
};

afterEach(async () => {
  for (const { locker, redis } of opened.splice(0)) {
    await locker.close();
    redis.disconnect();
  }
});

const uploadId = () => randomBytes(8).toString('hex');
const never = () => new AbortController().signal;

lockerConformance('redis', async ({ acquireTimeoutMs }) => {
  const options = acquireTimeoutMs === undefined ? {} : { acquireTimeoutMs };
  return [await node(options), await node(options)];
});

describe('RedisLocker expiry and renewal (nodes on one Redis)', () => {
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

  it('a request that runs ten times the ttl keeps its lock, renewed all along, and hands it over when done', async () => {
    const ttlMs = 300;
    const [a, b] = [await node({ ttlMs }), await node({ ttlMs, acquireTimeoutMs: 10_000, pollMs: 20 })];
    const id = uploadId();
    const held = a.newLock(id);
    let asked = 0;
    // A request that does not stop when asked (as a PATCH mid-write may not at once).
    await held.lock(never(), () => {
      asked++;
    });
    const token = await admin().get(`ferry:tus-lock:${id}`);
    const waiter = b.newLock(id);
    const taking = startTaking(waiter);
    const until = Date.now() + 10 * ttlMs;
    while (Date.now() < until) {
      // The key is the holder's throughout, and never close to expiring.
      expect(await admin().get(`ferry:tus-lock:${id}`)).toBe(token);
      expect(await admin().pttl(`ferry:tus-lock:${id}`)).toBeGreaterThan(0);
      expect(taking.taken()).toBe(false);
      await sleep(ttlMs / 3);
    }
    // The waiter kept asking the other node; the holder was asked, and its request decides.
    expect(asked).toBeGreaterThanOrEqual(1);
    await held.unlock();
    await taking.done;
    await waiter.unlock();
  });

  it('a node killed (SIGKILL) while it holds a lock: the lock holds while it lives, then expires within its ttl', async () => {
    const ttlMs = 1_000;
    const id = uploadId();
    // A real process takes the lock and renews it, as a node's PATCH would.
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `
        import { Redis } from 'ioredis';
        import { RedisLocker } from ${JSON.stringify(fileURLToPath(new URL('./redis-locker.ts', import.meta.url)))};
        const redis = new Redis(process.env.URL);
        const locker = new RedisLocker({ redis, subscriber: redis.duplicate(), ttlMs: ${ttlMs} });
        await locker.ready();
        await locker.newLock(process.env.ID).lock(new AbortController().signal, () => undefined);
        console.log('locked');
        setInterval(() => undefined, 1000);
        `,
      ],
      { env: { ...process.env, URL: redisUrl(), ID: id }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [line] = (await once(holder.stdout!, 'data')) as [Buffer];
      expect(line.toString().trim()).toBe('locked');
      expect((await admin().get(`ferry:tus-lock:${id}`))?.split('/')[1]).toBe(String(holder.pid));
      // Alive, it keeps the lock well past its ttl.
      const other = await node({ ttlMs, pollMs: 20, acquireTimeoutMs: 2.5 * ttlMs });
      await expect(other.newLock(id).lock(never(), () => undefined)).rejects.toBe(ERRORS.ERR_LOCK_TIMEOUT);
      holder.kill('SIGKILL');
      await once(holder, 'exit');
      const killed = Date.now();
      const survivor = await node({ ttlMs, pollMs: 20, acquireTimeoutMs: 3 * ttlMs });
      await survivor.newLock(id).lock(never(), () => undefined);
      // Renewed every third of the ttl: the key outlives the process by 2/3 to 3/3 of it.
      const waited = Date.now() - killed;
      expect(waited).toBeGreaterThanOrEqual(ttlMs / 2);
      expect(waited).toBeLessThan(ttlMs + 1_000);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a holder that cannot reach Redis asks its request to stop before its key can expire', async () => {
    const ttlMs = 1_500;
    const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
    const cut = new RedisLocker({ redis, subscriber: redis.duplicate(), ttlMs });
    await cut.ready();
    opened.push({ locker: cut, redis });
    const id = uploadId();
    let askedAt = 0;
    await cut.newLock(id).lock(never(), () => {
      askedAt ||= Date.now();
    });
    await sleep(ttlMs / 2);
    // Its command connection goes, so its renewals fail; the key lives on until it expires.
    redis.disconnect();
    const expiresAt = Date.now() + (await admin().pttl(`ferry:tus-lock:${id}`));
    const other = await node({ ttlMs, pollMs: 10, acquireTimeoutMs: 3 * ttlMs });
    await other.newLock(id).lock(never(), () => undefined);
    expect(askedAt).toBeGreaterThan(0);
    expect(askedAt).toBeLessThan(expiresAt);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 50);
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

  it('FERRY_UPLOAD_LOCK_TTL_MS sets the ttl: milliseconds, at least one second', () => {
    expect(uploadLockTtlMs(undefined)).toBeUndefined();
    expect(uploadLockTtlMs('30000')).toBe(30_000);
    expect(() => uploadLockTtlMs('999')).toThrow('FERRY_UPLOAD_LOCK_TTL_MS must be at least 1000');
    expect(() => uploadLockTtlMs('ten')).toThrow('FERRY_UPLOAD_LOCK_TTL_MS');
  });
});
