/**
 * vitest globalSetup: one Postgres cluster and one Redis server for the whole run, started
 * on loopback (installed first when missing) and stopped after it. Tests reach them with
 * `inject('postgresUrl')` / `inject('redisUrl')` (through databases.ts). Servers of your
 * own can stand in: FERRY_TEST_DATABASE_URL (a role that may CREATE DATABASE) and
 * FERRY_TEST_REDIS_URL. An engine that cannot start fails the tests that need it, with the
 * reason, and no others.
 *
 * S3 (Ceph radosgw, ~3-5 s, ~150 MiB plus what is stored) starts only when a test first asks for it, so a run
 * without S3 tests pays nothing: `inject('s3Broker')` is a loopback URL whose GET starts the
 * engine once and answers how to reach it (s3-buckets.ts). FERRY_TEST_S3_ENDPOINT, with
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, names a server of your own instead.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres.ts';
import { startRedis } from './redis.ts';
import { type S3Engine, startS3 } from './s3.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** An administrative URL (database `postgres`), or `error:` and why there is none. */
    postgresUrl: string;
    /** redis://…, or `error:` and why there is none. */
    redisUrl: string;
    /** http://127.0.0.1:PORT/: GET answers an S3Engine as JSON, or { error } (starting S3 on first use). */
    s3Broker: string;
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function attempt(name: string, start: () => Promise<{ url: string; stop(): void }>, stops: Array<() => void>) {
  try {
    const engine = await start();
    stops.push(() => engine.stop());
    return engine.url;
  } catch (error) {
    const reason = reasonOf(error);
    console.warn(`test engines: ${name} is not available: ${reason}`);
    return `error:${name} is not available for the tests: ${reason}`;
  }
}

/** The S3 engine of the run: started by the first request, the same answer for every later one. */
async function s3Broker(stops: Array<() => void>): Promise<string> {
  let answer: Promise<S3Engine | { error: string }> | undefined;
  const own = process.env.FERRY_TEST_S3_ENDPOINT;
  const engine = (): Promise<S3Engine | { error: string }> => {
    if (own) {
      return Promise.resolve({
        endpoint: own,
        region: process.env.AWS_REGION ?? 'us-east-1',
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      });
    }
    answer ??= (async () => {
      const started = Date.now();
      try {
        const server = await startS3();
        stops.push(() => server.stop());
        console.log(`test engines: S3 (Ceph radosgw) ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        const { stop: _, ...reach } = server;
        return reach;
      } catch (error) {
        const reason = reasonOf(error);
        console.warn(`test engines: S3 is not available: ${reason}`);
        return { error: `S3 (Ceph radosgw) is not available for the tests: ${reason}` };
      }
    })();
    return answer;
  };
  const broker = http.createServer((_req, res) => {
    void engine().then((body) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
  stops.push(() => broker.close());
  return `http://127.0.0.1:${(broker.address() as AddressInfo).port}/`;
}

export default async function setup(project: TestProject): Promise<() => void> {
  const stops: Array<() => void> = [];
  const postgresUrl = process.env.FERRY_TEST_DATABASE_URL || (await attempt('Postgres', startPostgres, stops));
  const redisUrl = process.env.FERRY_TEST_REDIS_URL || (await attempt('Redis', startRedis, stops));
  project.provide('postgresUrl', postgresUrl);
  project.provide('redisUrl', redisUrl);
  project.provide('s3Broker', await s3Broker(stops));
  return () => {
    for (const stop of stops) stop();
  };
}
