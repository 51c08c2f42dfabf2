/**
 * vitest globalSetup: one Postgres cluster and one Redis server for the whole run, started
 * on loopback (installed first when missing) and stopped after it. Tests reach them with
 * `inject('postgresUrl')` / `inject('redisUrl')` (through databases.ts). Servers of your
 * own can stand in: FERRY_TEST_DATABASE_URL (a role that may CREATE DATABASE) and
 * FERRY_TEST_REDIS_URL. An engine that cannot start fails the tests that need it, with the
 * reason, and no others.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres.ts';
import { startRedis } from './redis.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** An administrative URL (database `postgres`), or `error:` and why there is none. */
    postgresUrl: string;
    /** redis://…, or `error:` and why there is none. */
    redisUrl: string;
  }
}

async function attempt(name: string, start: () => Promise<{ url: string; stop(): void }>, stops: Array<() => void>) {
  try {
    const engine = await start();
    stops.push(() => engine.stop());
    return engine.url;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(`test engines: ${name} is not available: ${reason}`);
    return `error:${name} is not available for the tests: ${reason}`;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const stops: Array<() => void> = [];
  const postgresUrl = process.env.FERRY_TEST_DATABASE_URL || (await attempt('Postgres', startPostgres, stops));
  const redisUrl = process.env.FERRY_TEST_REDIS_URL || (await attempt('Redis', startRedis, stops));
  project.provide('postgresUrl', postgresUrl);
  project.provide('redisUrl', redisUrl);
  return () => {
    for (const stop of stops) stop();
  };
}
