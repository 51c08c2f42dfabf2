/**
 * AccessStore on SQLite (better-sqlite3), in its own file (`access.db`), so its schema
 * versions move independently of the other stores'. Synchronous calls in one process make
 * each `transaction()` atomic; `.immediate` takes the write lock before the quotas are read.
 */
import type Database from 'better-sqlite3';
import { openDatabase } from '../sqlite.ts';
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

/** Schema versions, applied in order; PRAGMA user_version records how far a file got. */
const MIGRATIONS: string[] = [
  `CREATE TABLE upload_keys (
     id TEXT PRIMARY KEY,
     hash TEXT NOT NULL UNIQUE,
     label TEXT NOT NULL,
     max_stored_bytes INTEGER,
     max_daily_bytes INTEGER,
     expires_at INTEGER,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER
   );
   CREATE TABLE reservations (
     share_id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     request_id TEXT,
     key_id TEXT,
     network TEXT,
     bytes INTEGER NOT NULL,
     files INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     released_at INTEGER
   );
   CREATE INDEX reservations_live ON reservations (released_at);
   CREATE INDEX reservations_key ON reservations (key_id, created_at);
   CREATE INDEX reservations_network ON reservations (network, created_at);
   CREATE TABLE request_links (
     id TEXT PRIMARY KEY,
     key_id TEXT,
     created_at INTEGER NOT NULL
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

export function openSqliteAccessStore(file: string): AccessStore {
  return new SqliteAccessStore(openDatabase(file, MIGRATIONS));
}

const sum = (row: { n: number | null } | undefined) => row?.n ?? 0;

class SqliteAccessStore implements AccessStore {
  readonly #db: Database.Database;
  readonly #q;
  readonly #reserve;

  constructor(db: Database.Database) {
    this.#db = db;
    // Holder columns are named in the SQL text (key_id or network), never taken from input.
    const windowRows = (column: string) =>
      db.prepare<[string, number], { bytes: number; createdAt: number }>(
        `SELECT bytes, created_at AS createdAt FROM reservations WHERE ${column} = ? AND created_at > ? ORDER BY created_at`,
      );
    const liveOf = (column: string) =>
      db.prepare<[string], { n: number | null }>(
        `SELECT SUM(bytes) AS n FROM reservations WHERE ${column} = ? AND released_at IS NULL`,
      );
    this.#q = {
      insertKey: db.prepare(
        `INSERT INTO upload_keys (id, hash, label, max_stored_bytes, max_daily_bytes, expires_at, created_at)
         VALUES (@id, @hash, @label, @maxStoredBytes, @maxDailyBytes, @expiresAt, @createdAt)`,
      ),
      keyByHash: db.prepare<[string], KeyRow>('SELECT * FROM upload_keys WHERE hash = ?'),
      key: db.prepare<[string], KeyRow>('SELECT * FROM upload_keys WHERE id = ?'),
      keys: db.prepare<[], KeyRow>('SELECT * FROM upload_keys ORDER BY created_at DESC, id'),
      revokeKey: db.prepare('UPDATE upload_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?'),
      window: { key: windowRows('key_id'), network: windowRows('network') },
      live: { key: liveOf('key_id'), network: liveOf('network') },
      liveCount: db.prepare<[string], { n: number }>(
        'SELECT COUNT(*) AS n FROM reservations WHERE key_id = ? AND released_at IS NULL',
      ),
      stored: db.prepare<[], { n: number | null }>(
        'SELECT SUM(bytes) AS n FROM reservations WHERE released_at IS NULL',
      ),
      exists: db.prepare<[string], { share_id: string }>('SELECT share_id FROM reservations WHERE share_id = ?'),
      insert: db.prepare(
        `INSERT INTO reservations (share_id, kind, request_id, key_id, network, bytes, files, created_at, expires_at)
         VALUES (@shareId, @kind, @requestId, @keyId, @network, @bytes, @files, @createdAt, @expiresAt)`,
      ),
      unreserve: db.prepare('DELETE FROM reservations WHERE share_id = ?'),
      release: db.prepare('UPDATE reservations SET released_at = ? WHERE share_id = ? AND released_at IS NULL'),
      setExpiry: db.prepare('UPDATE reservations SET expires_at = ? WHERE share_id = ? AND released_at IS NULL'),
      liveRows: db.prepare<[], ReservationRow>(
        'SELECT * FROM reservations WHERE released_at IS NULL ORDER BY created_at DESC, share_id',
      ),
      prune: db.prepare('DELETE FROM reservations WHERE released_at IS NOT NULL AND released_at < ?'),
      insertLink: db.prepare('INSERT OR IGNORE INTO request_links (id, key_id, created_at) VALUES (?, ?, ?)'),
      link: db.prepare<[string], { id: string; key_id: string | null; created_at: number }>(
        'SELECT * FROM request_links WHERE id = ?',
      ),
      links: db.prepare<[], { id: string; key_id: string | null; created_at: number }>(
        'SELECT * FROM request_links ORDER BY created_at DESC, id',
      ),
      forgetLink: db.prepare('DELETE FROM request_links WHERE id = ?'),
      adminHash: db.prepare<[], { token_hash: string }>('SELECT token_hash FROM admin WHERE one = 1'),
      setAdminHash: db.prepare('INSERT OR IGNORE INTO admin (one, token_hash) VALUES (1, ?)'),
    };

    this.#reserve = db.transaction((r: NewReservation, limits: ReserveLimits, now: number): ReserveResult => {
      const q = this.#q;
      if (q.exists.get(r.shareId)) return { outcome: 'exists' };
      const holder = r.holder === null ? null : 'keyId' in r.holder ? r.holder.keyId : r.holder.network;
      const column = r.holder === null ? null : 'keyId' in r.holder ? 'key' : 'network';
      if (holder !== null && column !== null) {
        if (limits.stored !== null) {
          const used = sum(q.live[column].get(holder));
          if (used + r.bytes > limits.stored) return { outcome: 'stored', used };
        }
        if (limits.daily !== null) {
          const rows = q.window[column].all(holder, now - limits.windowMs);
          const used = rows.reduce((n, row) => n + row.bytes, 0);
          if (used + r.bytes > limits.daily) {
            return { outcome: 'daily', used, retryAt: retryAt(rows, used, r.bytes, limits.daily, limits.windowMs) };
          }
        }
      }
      if (limits.storageCap !== null) {
        const used = sum(q.stored.get());
        if (used + r.bytes > limits.storageCap) return { outcome: 'storage-full', used };
      }
      q.insert.run({
        shareId: r.shareId,
        kind: r.kind,
        requestId: r.requestId,
        keyId: column === 'key' ? holder : null,
        network: column === 'network' ? holder : null,
        bytes: r.bytes,
        files: r.files,
        createdAt: r.createdAt,
        expiresAt: r.expiresAt,
      });
      return { outcome: 'reserved' };
    });
  }

  async createKey(key: NewUploadKey): Promise<void> {
    this.#q.insertKey.run(key);
  }

  async keyByHash(hash: string): Promise<UploadKeyRecord | undefined> {
    const row = this.#q.keyByHash.get(hash);
    return row && toKey(row);
  }

  async getKey(id: string): Promise<UploadKeyRecord | undefined> {
    const row = this.#q.key.get(id);
    return row && toKey(row);
  }

  async listKeys(): Promise<UploadKeyRecord[]> {
    return this.#q.keys.all().map(toKey);
  }

  async revokeKey(id: string, now: number): Promise<boolean> {
    return this.#q.revokeKey.run(now, id).changes > 0;
  }

  async keyUsage(keyId: string, now: number, windowMs: number): Promise<KeyUsage> {
    return {
      storedBytes: sum(this.#q.live.key.get(keyId)),
      windowBytes: this.#q.window.key.all(keyId, now - windowMs).reduce((n, row) => n + row.bytes, 0),
      liveShares: this.#q.liveCount.get(keyId)?.n ?? 0,
    };
  }

  async reserve(reservation: NewReservation, limits: ReserveLimits, now: number): Promise<ReserveResult> {
    return this.#reserve.immediate(reservation, limits, now);
  }

  async unreserve(shareId: string): Promise<void> {
    this.#q.unreserve.run(shareId);
  }

  async release(shareId: string, now: number): Promise<void> {
    this.#q.release.run(now, shareId);
  }

  async setExpiry(shareId: string, expiresAt: number): Promise<void> {
    this.#q.setExpiry.run(expiresAt, shareId);
  }

  async liveReservations(): Promise<Reservation[]> {
    return this.#q.liveRows.all().map(toReservation);
  }

  async storedBytes(): Promise<number> {
    return sum(this.#q.stored.get());
  }

  async pruneReleased(before: number): Promise<number> {
    return this.#q.prune.run(before).changes;
  }

  async addRequestLink(link: RequestLinkRecord): Promise<void> {
    this.#q.insertLink.run(link.id, link.keyId, link.createdAt);
  }

  async getRequestLink(id: string): Promise<RequestLinkRecord | undefined> {
    const row = this.#q.link.get(id);
    return row && { id: row.id, keyId: row.key_id, createdAt: row.created_at };
  }

  async listRequestLinks(): Promise<RequestLinkRecord[]> {
    return this.#q.links.all().map((row) => ({ id: row.id, keyId: row.key_id, createdAt: row.created_at }));
  }

  async forgetRequestLink(id: string): Promise<void> {
    this.#q.forgetLink.run(id);
  }

  async adminHash(): Promise<string | null> {
    return this.#q.adminHash.get()?.token_hash ?? null;
  }

  async setAdminHash(hash: string): Promise<boolean> {
    return this.#q.setAdminHash.run(hash).changes > 0;
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
