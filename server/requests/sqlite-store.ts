/**
 * RequestStore on SQLite (better-sqlite3), in its own file (`requests.db`) beside the share
 * database, so its schema versions move independently of the shares'. Synchronous calls in
 * one process make each `transaction()` atomic; `.immediate` takes the write lock first.
 */
import type Database from 'better-sqlite3';
import { openDatabase } from '../sqlite.ts';
import type { AddUploadResult, NewRequest, RequestRecord, RequestStore, UploadRecord } from './store.ts';

/** Schema versions, applied in order; PRAGMA user_version records how far a file got. */
const MIGRATIONS: string[] = [
  `CREATE TABLE requests (
     id TEXT PRIMARY KEY,
     owner_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     max_bytes INTEGER NOT NULL,
     max_files INTEGER NOT NULL,
     closed_at INTEGER
   );
   CREATE TABLE request_uploads (
     request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
     share_id TEXT NOT NULL,
     sender_key TEXT NOT NULL,
     bytes INTEGER NOT NULL,
     files INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (request_id, share_id)
   );`,
];

interface RequestRow {
  id: string;
  owner_hash: string;
  created_at: number;
  expires_at: number;
  max_bytes: number;
  max_files: number;
  closed_at: number | null;
  used_bytes: number;
  used_files: number;
}

interface UploadRow {
  share_id: string;
  sender_key: string;
  bytes: number;
  files: number;
  created_at: number;
}

export function openSqliteRequestStore(file: string): RequestStore {
  return new SqliteRequestStore(openDatabase(file, MIGRATIONS));
}

const toRequest = (row: RequestRow): RequestRecord => ({
  id: row.id,
  ownerHash: row.owner_hash,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  maxBytes: row.max_bytes,
  maxFiles: row.max_files,
  closedAt: row.closed_at,
  usedBytes: row.used_bytes,
  usedFiles: row.used_files,
});

class SqliteRequestStore implements RequestStore {
  readonly #db: Database.Database;
  readonly #q;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#q = {
      insert: db.prepare(
        `INSERT INTO requests (id, owner_hash, created_at, expires_at, max_bytes, max_files)
         VALUES (@id, @ownerHash, @createdAt, @expiresAt, @maxBytes, @maxFiles)`,
      ),
      get: db.prepare<[string], RequestRow>(
        `SELECT r.*, COALESCE(SUM(u.bytes), 0) AS used_bytes, COALESCE(SUM(u.files), 0) AS used_files
         FROM requests r LEFT JOIN request_uploads u ON u.request_id = r.id
         WHERE r.id = ? GROUP BY r.id`,
      ),
      uploads: db.prepare<[string], UploadRow>(
        'SELECT * FROM request_uploads WHERE request_id = ? ORDER BY created_at, rowid',
      ),
      addUpload: db.prepare(
        `INSERT INTO request_uploads (request_id, share_id, sender_key, bytes, files, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      removeUpload: db.prepare('DELETE FROM request_uploads WHERE request_id = ? AND share_id = ?'),
      close: db.prepare('UPDATE requests SET closed_at = ? WHERE id = ? AND closed_at IS NULL'),
      purge: db.prepare('DELETE FROM requests WHERE expires_at < @before OR closed_at < @before'),
    };
  }

  async createRequest(request: NewRequest): Promise<void> {
    this.#q.insert.run(request);
  }

  async getRequest(id: string): Promise<RequestRecord | undefined> {
    const row = this.#q.get.get(id);
    return row ? toRequest(row) : undefined;
  }

  async listUploads(requestId: string): Promise<UploadRecord[]> {
    return this.#q.uploads.all(requestId).map((row) => ({
      shareId: row.share_id,
      senderKey: row.sender_key,
      bytes: row.bytes,
      files: row.files,
      createdAt: row.created_at,
    }));
  }

  async addUpload(requestId: string, upload: UploadRecord, now: number): Promise<AddUploadResult> {
    const add = this.#db.transaction((): AddUploadResult => {
      const row = this.#q.get.get(requestId);
      if (!row) return 'missing';
      if (row.closed_at !== null) return 'closed';
      if (row.expires_at <= now) return 'expired';
      if (row.used_files + upload.files > row.max_files) return 'too-many-files';
      if (row.used_bytes + upload.bytes > row.max_bytes) return 'too-many-bytes';
      this.#q.addUpload.run(requestId, upload.shareId, upload.senderKey, upload.bytes, upload.files, upload.createdAt);
      return 'added';
    });
    return add.immediate();
  }

  async removeUpload(requestId: string, shareId: string): Promise<void> {
    this.#q.removeUpload.run(requestId, shareId);
  }

  async closeRequest(id: string, now: number): Promise<void> {
    this.#q.close.run(now, id);
  }

  async purgeBefore(before: number): Promise<number> {
    return this.#q.purge.run({ before }).changes;
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
