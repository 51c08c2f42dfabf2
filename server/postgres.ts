/**
 * Opening the server's Postgres database (`pg`), the twin of sqlite.ts for several nodes:
 * a pool whose BIGINTs read as numbers, an error listener (a connection the server drops
 * must not crash the process), a first query that fails start-up with a sentence naming
 * the database, and the store's schema brought up to date. `migrations[v]` takes a store
 * from version v to v + 1; table `ferry_migrations` records each applied version per store,
 * and an advisory lock makes nodes that start together apply each version once.
 */
import pg from 'pg';
import { FerryError } from '../shared/errors.ts';
import type { Logger } from './log.ts';

const INT8_OID = 20;

/** BIGINT columns hold times in ms and byte counts: well inside Number's exact range. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${text} is past Number's exact range`);
  return n;
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

/** What went wrong, in words: a connection to "localhost" fails once per address (an AggregateError without a message). */
function describeError(error: unknown): string {
  if (error instanceof AggregateError && !error.message)
    return [...new Set(error.errors.map(describeError))].join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}

export interface OpenOptions {
  /** Connections in this store's pool. */
  max?: number;
  /** Where a lost connection is told (the pool outlives it: it connects again). */
  logger?: Logger;
}

/**
 * A pool on `url` with `store`'s schema up to date. Throws ENGINE_UNAVAILABLE, naming the
 * database (without its password), when it cannot be reached or migrated.
 */
export async function openPostgres(
  url: string,
  store: string,
  migrations: readonly string[],
  options: OpenOptions = {},
): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    types,
    connectionTimeoutMillis: 10_000,
    application_name: `ferry ${store}`,
  });
  pool.on('error', (error) => {
    const message = `Postgres (${store}): idle connection lost`;
    if (options.logger) options.logger.warn({ err: error }, message);
    else console.error(`${message}: ${error.message}`);
  });
  try {
    await migrate(pool, store, migrations);
  } catch (error) {
    await pool.end().catch(() => undefined);
    const reason = describeError(error);
    throw new FerryError(
      'ENGINE_UNAVAILABLE',
      `Ferry cannot use the Postgres database ${redactUrl(url)} (FERRY_DATABASE_URL) for its ${store} records: ${reason}`,
      { cause: error },
    );
  }
  return pool;
}

async function migrate(pool: pg.Pool, store: string, migrations: readonly string[]): Promise<void> {
  await transaction(pool, async (client) => {
    await advisoryLock(client, 'ferry:migrations');
    await client.query(`CREATE TABLE IF NOT EXISTS ferry_migrations (
      store TEXT NOT NULL,
      version INTEGER NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (store, version)
    )`);
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM ferry_migrations WHERE store = $1',
      [store],
    );
    for (let v = rows[0]?.v ?? 0; v < migrations.length; v++) {
      await client.query(migrations[v]!);
      await client.query('INSERT INTO ferry_migrations (store, version) VALUES ($1, $2)', [store, v + 1]);
    }
  });
}

/**
 * Waits for, then holds until the transaction ends, the advisory lock called `name` (Ferry's
 * names start "ferry:"); `shared` lets other shared holders in and keeps exclusive ones out.
 */
export async function advisoryLock(client: pg.ClientBase, name: string, shared = false): Promise<void> {
  const fn = shared ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await client.query(`SELECT ${fn}(hashtextextended($1, 0))`, [name]);
}

/** Errors after which the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const ATTEMPTS = 5;

/**
 * Runs `work` in one READ COMMITTED transaction on one pooled connection: committed if it
 * returns, rolled back if it throws. Callers make their rules exact with row locks
 * (SELECT … FOR UPDATE) taken in a fixed order (the share row first) and conditional
 * writes; a deadlock or serialization failure the engine still reports is retried.
 */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection itself failed: do not hand it out again
      }
      const code = (error as { code?: string }).code;
      if (attempt >= ATTEMPTS || !code || !RETRYABLE.has(code)) throw error;
    } finally {
      client.release(broken);
    }
  }
}
