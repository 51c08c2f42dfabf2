/**
 * Losing an engine under a running Ferry, with real engines of the test's own (the shared
 * ones serve other test files): while Redis or Postgres is stopped, /ready answers 503
 * naming it and new work is refused with ENGINE_UNAVAILABLE (503), not a hang or a 500;
 * once the engine is started again, Ferry works again without a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SIGNAL_PATH } from '../shared/signaling.ts';
import { SignalClient } from './signaling/test-client.ts';
import { startPostgres } from './test-engines/postgres.ts';
import { type RedisServer, startRedis } from './test-engines/redis.ts';
import { api, createTestShare, errorCode, newShareBody, startTestServer, type TestServer } from './test-support.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The first message a new signaling connection gets, and how the connection closes. */
async function firstSignal(url: string): Promise<{ message: unknown; close: number }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${SIGNAL_PATH}`);
  ws.on('error', () => undefined);
  const message = new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))));
  const close = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { message: await message, close: await close };
}

/** Polls /ready until it answers `status` (the node notices an engine within seconds). */
async function readyBecomes(server: TestServer, status: number) {
  let last: Awaited<ReturnType<typeof api>> | undefined;
  await expect
    .poll(
      async () => {
        last = await api(server.url, 'GET', '/ready');
        return last.status;
      },
      { timeout: 20_000, interval: 200 },
    )
    .toBe(status);
  return last!;
}

describe('losing an engine', () => {
  it('Redis: /ready 503 naming it, signaling refused with ENGINE_UNAVAILABLE; back without a restart', async () => {
    let redis: RedisServer = await startRedis();
    cleanups.push(() => redis.stop());
    const server = await startTestServer({ redisUrl: redis.url });
    cleanups.push(() => server.stop());
    expect((await api(server.url, 'GET', '/ready')).status).toBe(200);
    const before = await SignalClient.connect(server.url);
    before.ws.terminate();

    redis.stop();
    const down = await readyBecomes(server, 503);
    expect(errorCode(down)).toBe('ENGINE_UNAVAILABLE');
    expect(down.json).toMatchObject({
      error: { message: expect.stringContaining('Redis') },
      failures: [{ check: 'redis', engine: 'Redis', code: 'ENGINE_UNAVAILABLE' }],
    });
    const started = performance.now();
    const refused = await firstSignal(server.url);
    expect(refused.message).toMatchObject({ type: 'error', code: 'ENGINE_UNAVAILABLE' });
    expect(refused.close).toBe(1013);
    // Refused at once, not after a reconnection timeout.
    expect(performance.now() - started).toBeLessThan(2000);

    redis = await startRedis(redis.port);
    await readyBecomes(server, 200);
    const a = await SignalClient.connect(server.url);
    const b = await SignalClient.connect(server.url);
    cleanups.push(() => {
      a.ws.terminate();
      b.ws.terminate();
    });
    expect((await b.next('room')).peers.map((p) => p.id)).toContain(a.id);
  });

  it('Postgres: /ready 503 naming it, share creation refused with ENGINE_UNAVAILABLE; back without a restart', async () => {
    const postgres = await startPostgres();
    cleanups.push(() => postgres.stop());
    const server = await startTestServer({ databaseUrl: postgres.url });
    cleanups.push(() => server.stop());
    expect((await api(server.url, 'GET', '/ready')).status).toBe(200);
    await createTestShare(server.url, [{ size: 100 }]);

    postgres.halt();
    const down = await readyBecomes(server, 503);
    expect(errorCode(down)).toBe('ENGINE_UNAVAILABLE');
    expect(down.json).toMatchObject({
      error: { message: expect.stringContaining('Postgres') },
      failures: [{ check: 'database', engine: 'Postgres', code: 'ENGINE_UNAVAILABLE' }],
    });
    const refused = await api(server.url, 'POST', '/api/shares', { body: (await newShareBody([{ size: 100 }])).body });
    expect(refused.status).toBe(503);
    expect(errorCode(refused)).toBe('ENGINE_UNAVAILABLE');

    postgres.resume();
    await readyBecomes(server, 200);
    const share = await createTestShare(server.url, [{ size: 100 }]);
    expect(share.id).toBeTruthy();
  });
});
