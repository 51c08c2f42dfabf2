/**
 * Redis, wired: FERRY_REDIS_URL is read, an unreachable Redis stops start-up with a sentence
 * naming it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFerryServer } from './app.ts';
import { configFromProcess } from './config.ts';
import { freePort } from './test-engines/process.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'ferry-redis-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('FERRY_REDIS_URL', () => {
  it('is read as a redis:// or rediss:// URL; anything else stops the configuration', () => {
    expect(configFromProcess([], {}).redisUrl).toBeNull();
    expect(configFromProcess([], { FERRY_REDIS_URL: ' redis://:pw@cache:6379/2 ' }).redisUrl).toBe(
      'redis://:pw@cache:6379/2',
    );
    expect(configFromProcess([], { FERRY_REDIS_URL: 'rediss://cache' }).redisUrl).toBe('rediss://cache');
    for (const bad of ['http://cache:6379', 'cache:6379', 'localhost']) {
      expect(() => configFromProcess([], { FERRY_REDIS_URL: bad })).toThrow(/FERRY_REDIS_URL must be a redis:\/\//);
    }
  });

  it('stops start-up when Redis cannot be reached, naming it without its password', async () => {
    const port = await freePort(); // nothing listens there
    const url = `redis://:s3cret@127.0.0.1:${port}`;
    const start = createFerryServer({ port: 0, host: '127.0.0.1', dataDir: scratch, redisUrl: url });
    await expect(start).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
    const message = await start.catch((error: Error) => error.message);
    expect(message).toContain(`Redis at redis://:***@127.0.0.1:${port} (FERRY_REDIS_URL)`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toContain('s3cret');
  });
});
