/** The test engines answer: the global setup's Postgres takes a new database, its Redis answers PING. */
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { postgresDatabases, redisUrl } from './databases.ts';

describe('test engines', () => {
  const newDatabase = postgresDatabases();

  it('Postgres gives each caller a new, empty database', async () => {
    const [a, b] = await Promise.all([newDatabase(), newDatabase()]);
    expect(a).not.toBe(b);
    const client = new pg.Client({ connectionString: a });
    await client.connect();
    try {
      const { rows } = await client.query<{ v: string; tables: string }>(
        `SELECT current_setting('server_version_num') AS v,
                (SELECT count(*) FROM pg_tables WHERE schemaname = 'public') AS tables`,
      );
      expect(Number(rows[0]!.v)).toBeGreaterThanOrEqual(150000);
      expect(Number(rows[0]!.tables)).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('Redis answers on loopback', async () => {
    const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      expect(await redis.ping()).toBe('PONG');
      await redis.set('ferry:test', '1');
      expect(await redis.get('ferry:test')).toBe('1');
    } finally {
      redis.disconnect();
    }
  });
});
