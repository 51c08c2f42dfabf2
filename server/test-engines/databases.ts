/**
 * For tests: a new, empty Postgres database per call, on the cluster the global setup
 * started; every database a test file made is dropped after the file (FORCE ends
 * connections a failed test left open).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';

/** The administrative URL, or a thrown reason why the tests have no Postgres. */
export function postgresAdminUrl(): string {
  const url = inject('postgresUrl');
  if (url.startsWith('error:')) throw new Error(url.slice('error:'.length));
  return url;
}

/** The Redis URL, or a thrown reason why the tests have none. */
export function redisUrl(): string {
  const url = inject('redisUrl');
  if (url.startsWith('error:')) throw new Error(url.slice('error:'.length));
  return url;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresAdminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Returns a function that makes a new database and answers its URL; all are dropped after the calling file. */
export function postgresDatabases(): () => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    if (made.length === 0) return;
    await admin(async (client) => {
      for (const name of made) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  });
  return async () => {
    const name = `ferry_test_${randomBytes(6).toString('hex')}`;
    await admin((client) => client.query(`CREATE DATABASE ${name}`));
    made.push(name);
    const url = new URL(postgresAdminUrl());
    url.pathname = `/${name}`;
    return url.toString();
  };
}
