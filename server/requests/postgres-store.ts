/**
 * RequestStore on Postgres (`pg`), for several nodes sharing one database: the twin of
 * sqlite-store.ts, passing the same conformance suite. addUpload locks the request's row
 * (SELECT … FOR UPDATE) before it sums what is used, so senders racing on any nodes take
 * turns and can never pass the limits together.
 */
import type pg from 'pg';
import { type OpenOptions, openPostgres, transaction } from '../postgres.ts';
import type { AddUploadResult, NewRequest, RequestRecord, RequestStore, UploadRecord } from './store.ts';

/** Schema versions, applied in order (postgres.ts records them in ferry_migrations). */
const MIGRATIONS: string[] = [
  `CREATE TABLE requests (
     id TEXT PRIMARY KEY,
     owner_hash TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     max_bytes BIGINT NOT NULL,
     max_files INTEGER NOT NULL,
     closed_at BIGINT
   );
   CREATE TABLE request_uploads (
     request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
     share_id TEXT NOT NULL,
     seq BIGINT GENERATED ALWAYS AS IDENTITY,
     sender_key TEXT NOT NULL,
     bytes BIGINT NOT NULL,
     files INTEGER NOT NULL,
     created_at BIGINT NOT NULL,
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

const SELECT_REQUEST = `SELECT r.*,
    (SELECT COALESCE(sum(bytes), 0)::bigint FROM request_uploads u WHERE u.request_id = r.id) AS used_bytes,
    (SELECT COALESCE(sum(files), 0)::bigint FROM request_uploads u WHERE u.request_id = r.id) AS used_files
  FROM requests r WHERE r.id = $1`;

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

/** Opens the request records in the database at `url`, bringing their schema up to date. */
export async function openPostgresRequestStore(url: string, options: OpenOptions = {}): Promise<RequestStore> {
  return new PostgresRequestStore(await openPostgres(url, 'requests', MIGRATIONS, { max: 5, ...options }));
}

class PostgresRequestStore implements RequestStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async createRequest(request: NewRequest): Promise<void> {
    await this.#pool.query(
      `INSERT INTO requests (id, owner_hash, created_at, expires_at, max_bytes, max_files)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [request.id, request.ownerHash, request.createdAt, request.expiresAt, request.maxBytes, request.maxFiles],
    );
  }

  async getRequest(id: string): Promise<RequestRecord | undefined> {
    const row = (await this.#pool.query<RequestRow>(SELECT_REQUEST, [id])).rows[0];
    return row ? toRequest(row) : undefined;
  }

  async listUploads(requestId: string): Promise<UploadRecord[]> {
    const { rows } = await this.#pool.query<{
      share_id: string;
      sender_key: string;
      bytes: number;
      files: number;
      created_at: number;
    }>('SELECT * FROM request_uploads WHERE request_id = $1 ORDER BY created_at, seq', [requestId]);
    return rows.map((row) => ({
      shareId: row.share_id,
      senderKey: row.sender_key,
      bytes: row.bytes,
      files: row.files,
      createdAt: row.created_at,
    }));
  }

  async addUpload(requestId: string, upload: UploadRecord, now: number): Promise<AddUploadResult> {
    return transaction(this.#pool, async (client): Promise<AddUploadResult> => {
      // The row lock first: the sums below then count every upload another node committed.
      if (!(await client.query('SELECT 1 FROM requests WHERE id = $1 FOR UPDATE', [requestId])).rowCount) {
        return 'missing';
      }
      const row = (await client.query<RequestRow>(SELECT_REQUEST, [requestId])).rows[0]!;
      if (row.closed_at !== null) return 'closed';
      if (row.expires_at <= now) return 'expired';
      if (row.used_files + upload.files > row.max_files) return 'too-many-files';
      if (row.used_bytes + upload.bytes > row.max_bytes) return 'too-many-bytes';
      await client.query(
        `INSERT INTO request_uploads (request_id, share_id, sender_key, bytes, files, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [requestId, upload.shareId, upload.senderKey, upload.bytes, upload.files, upload.createdAt],
      );
      return 'added';
    });
  }

  async removeUpload(requestId: string, shareId: string): Promise<void> {
    await this.#pool.query('DELETE FROM request_uploads WHERE request_id = $1 AND share_id = $2', [requestId, shareId]);
  }

  async closeRequest(id: string, now: number): Promise<void> {
    await this.#pool.query('UPDATE requests SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL', [now, id]);
  }

  async purgeBefore(before: number): Promise<number> {
    const result = await this.#pool.query('DELETE FROM requests WHERE expires_at < $1 OR closed_at < $1', [before]);
    return result.rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
