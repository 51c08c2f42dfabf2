/**
 * AccessStore on Postgres (`pg`), for several nodes sharing one database: the twin of
 * sqlite-store.ts, passing the same conformance suite. `reserve` checks quotas against sums
 * of the ledger, so racing creators must take turns: it holds an advisory lock per holder
 * (an upload key or a client network) and, when there is a storage cap, one for the whole
 * ledger, always in that order; the insert itself is ON CONFLICT DO NOTHING, so a share is
 * reserved once even when two nodes create it together.
 */
import type pg from 'pg';
import { advisoryLock, type OpenOptions, openPostgres, transaction } from '../postgres.ts';
import {
  type AccessStore,
  type KeyUsage,
  type NewReservation,
  type NewUploadKey,
  type RequestLinkRecord,
  type Reservation,
  type ReserveLimits,
  type ReserveResult,
  retryAt,
  type UploadKeyRecord,
} from './store.ts';

/** Schema versions, applied in order (postgres.ts records them in ferry_migrations). */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE upload_keys (
     id TEXT PRIMARY KEY,
     hash TEXT NOT NULL UNIQUE,
     label TEXT NOT NULL,
     max_stored_bytes BIGINT,
     max_daily_bytes BIGINT,
     expires_at BIGINT,
     created_at BIGINT NOT NULL,
     revoked_at BIGINT
   );
   CREATE TABLE reservations (
     share_id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     request_id TEXT,
     key_id TEXT,
     network TEXT,
     bytes BIGINT NOT NULL,
     files INTEGER NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     released_at BIGINT
   );
   CREATE INDEX reservations_live ON reservations (released_at);
   CREATE INDEX reservations_key ON reservations (key_id, created_at);
   CREATE INDEX reservations_network ON reservations (network, created_at);
   CREATE TABLE request_links (
     id TEXT PRIMARY KEY,
     key_id TEXT,
     created_at BIGINT NOT NULL
   );
   CREATE TABLE admin (
     one INTEGER PRIMARY KEY CHECK (one = 1),
     token_hash TEXT NOT NULL
   );`,
];

interface KeyRow {
  id: string;
  hash: string;
  label: string;
  max_stored_bytes: number | null;
  max_daily_bytes: number | null;
  expires_at: number | null;
  created_at: number;
  revoked_at: number | null;
}

interface ReservationRow {
  share_id: string;
  kind: 'share' | 'request-upload';
  request_id: string | null;
  key_id: string | null;
  network: string | null;
  bytes: number;
  files: number;
  created_at: number;
  expires_at: number;
  released_at: number | null;
}

const toKey = (row: KeyRow): UploadKeyRecord => ({
  id: row.id,
  hash: row.hash,
  label: row.label,
  maxStoredBytes: row.max_stored_bytes,
  maxDailyBytes: row.max_daily_bytes,
  expiresAt: row.expires_at,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

const toReservation = (row: ReservationRow): Reservation => ({
  shareId: row.share_id,
  kind: row.kind,
  requestId: row.request_id,
  keyId: row.key_id,
  network: row.network,
  bytes: row.bytes,
  files: row.files,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  releasedAt: row.released_at,
});

/** Holder columns by name, never taken from input. */
const COLUMN = { key: 'key_id', network: 'network' } as const;
type Column = keyof typeof COLUMN;

/** Bytes of `holder`'s live reservations. */
async function liveBytes(client: pg.ClientBase | pg.Pool, column: Column, holder: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT COALESCE(sum(bytes), 0)::bigint AS n FROM reservations WHERE ${COLUMN[column]} = $1 AND released_at IS NULL`,
    [holder],
  );
  return rows[0]!.n;
}

/** `holder`'s reservations made after `after`, oldest first. */
async function windowRows(client: pg.ClientBase | pg.Pool, column: Column, holder: string, after: number) {
  const { rows } = await client.query<{ bytes: number; createdAt: number }>(
    `SELECT bytes, created_at AS "createdAt" FROM reservations WHERE ${COLUMN[column]} = $1 AND created_at > $2
     ORDER BY created_at`,
    [holder, after],
  );
  return rows;
}

async function storedBytes(client: pg.ClientBase | pg.Pool): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    'SELECT COALESCE(sum(bytes), 0)::bigint AS n FROM reservations WHERE released_at IS NULL',
  );
  return rows[0]!.n;
}

/** Opens the access records in the database at `url`, bringing their schema up to date. */
export async function openPostgresAccessStore(url: string, options: OpenOptions = {}): Promise<AccessStore> {
  return new PostgresAccessStore(await openPostgres(url, 'access', MIGRATIONS, { max: 5, ...options }));
}

class PostgresAccessStore implements AccessStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async createKey(key: NewUploadKey): Promise<void> {
    await this.#pool.query(
      `INSERT INTO upload_keys (id, hash, label, max_stored_bytes, max_daily_bytes, expires_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [key.id, key.hash, key.label, key.maxStoredBytes, key.maxDailyBytes, key.expiresAt, key.createdAt],
    );
  }

  async keyByHash(hash: string): Promise<UploadKeyRecord | undefined> {
    const row = (await this.#pool.query<KeyRow>('SELECT * FROM upload_keys WHERE hash = $1', [hash])).rows[0];
    return row && toKey(row);
  }

  async getKey(id: string): Promise<UploadKeyRecord | undefined> {
    const row = (await this.#pool.query<KeyRow>('SELECT * FROM upload_keys WHERE id = $1', [id])).rows[0];
    return row && toKey(row);
  }

  async listKeys(): Promise<UploadKeyRecord[]> {
    return (await this.#pool.query<KeyRow>('SELECT * FROM upload_keys ORDER BY created_at DESC, id')).rows.map(toKey);
  }

  async revokeKey(id: string, now: number): Promise<boolean> {
    const result = await this.#pool.query(
      'UPDATE upload_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2',
      [now, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async keyUsage(keyId: string, now: number, windowMs: number): Promise<KeyUsage> {
    const stored = await liveBytes(this.#pool, 'key', keyId);
    const rows = await windowRows(this.#pool, 'key', keyId, now - windowMs);
    const live = await this.#pool.query<{ n: number }>(
      'SELECT count(*) AS n FROM reservations WHERE key_id = $1 AND released_at IS NULL',
      [keyId],
    );
    return {
      storedBytes: stored,
      windowBytes: rows.reduce((n, row) => n + row.bytes, 0),
      liveShares: live.rows[0]!.n,
    };
  }

  async reserve(r: NewReservation, limits: ReserveLimits, now: number): Promise<ReserveResult> {
    return transaction(this.#pool, async (client): Promise<ReserveResult> => {
      const holder = r.holder === null ? null : 'keyId' in r.holder ? r.holder.keyId : r.holder.network;
      const column: Column | null = r.holder === null ? null : 'keyId' in r.holder ? 'key' : 'network';
      // The holder's lock, then the whole ledger's: always in this order, so no two wait on each other.
      if (holder !== null && column !== null) await advisoryLock(client, `ferry:reserve:${column}:${holder}`);
      if (limits.storageCap !== null) await advisoryLock(client, 'ferry:reserve');
      if ((await client.query('SELECT 1 FROM reservations WHERE share_id = $1', [r.shareId])).rowCount) {
        return { outcome: 'exists' };
      }
      if (holder !== null && column !== null) {
        if (limits.stored !== null) {
          const used = await liveBytes(client, column, holder);
          if (used + r.bytes > limits.stored) return { outcome: 'stored', used };
        }
        if (limits.daily !== null) {
          const rows = await windowRows(client, column, holder, now - limits.windowMs);
          const used = rows.reduce((n, row) => n + row.bytes, 0);
          if (used + r.bytes > limits.daily) {
            return { outcome: 'daily', used, retryAt: retryAt(rows, used, r.bytes, limits.daily, limits.windowMs) };
          }
        }
      }
      if (limits.storageCap !== null) {
        const used = await storedBytes(client);
        if (used + r.bytes > limits.storageCap) return { outcome: 'storage-full', used };
      }
      const inserted = await client.query(
        `INSERT INTO reservations (share_id, kind, request_id, key_id, network, bytes, files, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (share_id) DO NOTHING`,
        [
          r.shareId,
          r.kind,
          r.requestId,
          column === 'key' ? holder : null,
          column === 'network' ? holder : null,
          r.bytes,
          r.files,
          r.createdAt,
          r.expiresAt,
        ],
      );
      // Another node reserved the same share under another holder since the check.
      return inserted.rowCount === 1 ? { outcome: 'reserved' } : { outcome: 'exists' };
    });
  }

  async unreserve(shareId: string): Promise<void> {
    await this.#pool.query('DELETE FROM reservations WHERE share_id = $1', [shareId]);
  }

  async release(shareId: string, now: number): Promise<void> {
    await this.#pool.query('UPDATE reservations SET released_at = $1 WHERE share_id = $2 AND released_at IS NULL', [
      now,
      shareId,
    ]);
  }

  async setExpiry(shareId: string, expiresAt: number): Promise<void> {
    await this.#pool.query('UPDATE reservations SET expires_at = $1 WHERE share_id = $2 AND released_at IS NULL', [
      expiresAt,
      shareId,
    ]);
  }

  async liveReservations(): Promise<Reservation[]> {
    const { rows } = await this.#pool.query<ReservationRow>(
      'SELECT * FROM reservations WHERE released_at IS NULL ORDER BY created_at DESC, share_id',
    );
    return rows.map(toReservation);
  }

  async storedBytes(): Promise<number> {
    return storedBytes(this.#pool);
  }

  async pruneReleased(before: number): Promise<number> {
    const result = await this.#pool.query(
      'DELETE FROM reservations WHERE released_at IS NOT NULL AND released_at < $1',
      [before],
    );
    return result.rowCount ?? 0;
  }

  async addRequestLink(link: RequestLinkRecord): Promise<void> {
    await this.#pool.query(
      'INSERT INTO request_links (id, key_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
      [link.id, link.keyId, link.createdAt],
    );
  }

  async getRequestLink(id: string): Promise<RequestLinkRecord | undefined> {
    const row = (
      await this.#pool.query<{ id: string; key_id: string | null; created_at: number }>(
        'SELECT * FROM request_links WHERE id = $1',
        [id],
      )
    ).rows[0];
    return row && { id: row.id, keyId: row.key_id, createdAt: row.created_at };
  }

  async listRequestLinks(): Promise<RequestLinkRecord[]> {
    const { rows } = await this.#pool.query<{ id: string; key_id: string | null; created_at: number }>(
      'SELECT * FROM request_links ORDER BY created_at DESC, id',
    );
    return rows.map((row) => ({ id: row.id, keyId: row.key_id, createdAt: row.created_at }));
  }

  async forgetRequestLink(id: string): Promise<void> {
    await this.#pool.query('DELETE FROM request_links WHERE id = $1', [id]);
  }

  async adminHash(): Promise<string | null> {
    const row = (await this.#pool.query<{ token_hash: string }>('SELECT token_hash FROM admin WHERE one = 1')).rows[0];
    return row?.token_hash ?? null;
  }

  async setAdminHash(hash: string): Promise<boolean> {
    const result = await this.#pool.query(
      'INSERT INTO admin (one, token_hash) VALUES (1, $1) ON CONFLICT (one) DO NOTHING',
      [hash],
    );
    return result.rowCount === 1;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
