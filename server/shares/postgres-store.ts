/**
 * ShareStore on Postgres (`pg`), for several nodes sharing one database: the twin of
 * sqlite-store.ts, passing the same conformance suite. Where SQLite runs one writer at a
 * time, here every rule that must be exact under concurrency locks the share's row first
 * (SELECT … FOR UPDATE: claiming a slot, granting a ticket under the download limit,
 * recording coverage, lapsing tickets, purging), so transactions on one share take turns
 * on every node, and other shares are not held up. Writes that stand alone are one
 * conditional UPDATE. Reusing a sealed blob in a new share and forgetting blobs nothing
 * points at, or listing them as dead, take one advisory lock (shared / exclusive), so a blob
 * is never forgotten or removed while a share being created points at it.
 */
import type pg from 'pg';
import { advisoryLock, type OpenOptions, openPostgres, transaction } from '../postgres.ts';
import { decodeFileSet, encodeFileSet, fileSetHas } from './file-set.ts';
import { addInterval, coversAll, type Interval, MAX_PIECES, parseIntervals } from './intervals.ts';
import type {
  BlobRecord,
  ClaimResult,
  CoverageResult,
  CreateResult,
  GrantResult,
  NewShare,
  ShareRecord,
  ShareState,
  ShareStats,
  ShareStore,
  TicketGrant,
  TicketPurpose,
  TicketRecord,
  TicketState,
} from './store.ts';

/** Schema versions, applied in order (postgres.ts records them in ferry_migrations). */
const MIGRATIONS: string[] = [
  `CREATE TABLE shares (
     id TEXT PRIMARY KEY,
     owner_hash TEXT NOT NULL,
     upload_hash TEXT NOT NULL,
     reader_hash TEXT NOT NULL,
     manifest TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     max_downloads INTEGER,
     downloads INTEGER NOT NULL DEFAULT 0,
     password TEXT,
     state TEXT NOT NULL CHECK (state IN ('uploading', 'ready', 'revoked')),
     revoked_at BIGINT,
     purged BOOLEAN NOT NULL DEFAULT false
   );
   CREATE INDEX shares_live ON shares (expires_at) WHERE NOT purged;
   CREATE TABLE blobs (
     id TEXT PRIMARY KEY,
     size BIGINT NOT NULL,
     base BIGINT NOT NULL DEFAULT 0,
     sealed BOOLEAN NOT NULL DEFAULT false,
     token TEXT,
     share_id TEXT NOT NULL,
     slot_index INTEGER NOT NULL,
     created_at BIGINT NOT NULL
   );
   CREATE INDEX blobs_unsealed ON blobs (created_at) WHERE NOT sealed;
   CREATE TABLE slots (
     share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     size BIGINT NOT NULL,
     blob_id TEXT,
     PRIMARY KEY (share_id, idx)
   );
   CREATE INDEX slots_blob ON slots (blob_id);
   -- As in SQLite (its version 3): a ticket names its files as runs (file-set.ts); pending
   -- counts named non-empty files not yet sent whole, served whether any ciphertext was
   -- sent; coverage has a row only for a file bytes were sent of.
   CREATE TABLE tickets (
     hash TEXT PRIMARY KEY,
     share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
     state TEXT NOT NULL CHECK (state IN ('open', 'done', 'lapsed')),
     last_active_at BIGINT NOT NULL,
     completed_at BIGINT,
     files TEXT NOT NULL,
     pending INTEGER NOT NULL,
     served BOOLEAN NOT NULL DEFAULT false
   );
   CREATE INDEX tickets_share ON tickets (share_id, state);
   CREATE INDEX tickets_state ON tickets (state, last_active_at);
   CREATE TABLE ticket_pieces (
     ticket_hash TEXT NOT NULL REFERENCES tickets(hash) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     covered TEXT NOT NULL,
     PRIMARY KEY (ticket_hash, idx)
   );
   -- One row the readiness probe rewrites (as SQLite's version 4).
   CREATE TABLE probe (id INTEGER PRIMARY KEY CHECK (id = 1), at BIGINT NOT NULL);`,
  // As in SQLite: a thumbnail ticket (store.ts TicketPurpose) never counts.
  `ALTER TABLE tickets ADD COLUMN purpose TEXT NOT NULL DEFAULT 'download';`,
];

/** Blobs that a slot of a live (unexpired, unrevoked) share points at, as of $1. */
const LIVE_REF = `EXISTS (SELECT 1 FROM slots s JOIN shares sh ON sh.id = s.share_id
  WHERE s.blob_id = b.id AND sh.state <> 'revoked' AND sh.expires_at > $1)`;

/** Advisory lock: shared while a share reuses sealed blobs, exclusive while deadBlobs and purgeDead look for unused ones. */
const BLOB_REUSE = 'ferry:blob-reuse';

interface ShareRow {
  id: string;
  owner_hash: string;
  upload_hash: string;
  reader_hash: string;
  manifest: string;
  created_at: number;
  expires_at: number;
  max_downloads: number | null;
  downloads: number;
  password: string | null;
  state: ShareState;
  purged: boolean;
  /** json_agg of the slots, in index order. */
  slots: Array<{
    idx: number;
    size: number;
    blob_id: string | null;
    sealed: boolean | null;
    token: string | null;
    base: number | null;
  }>;
}
interface BlobRow {
  id: string;
  size: number;
  base: number;
  sealed: boolean;
  token: string | null;
  share_id: string;
  slot_index: number;
  created_at: number;
}
interface TicketRow {
  hash: string;
  share_id: string;
  state: TicketState;
  last_active_at: number;
  completed_at: number | null;
  files: string;
  purpose: TicketPurpose;
  pending: number;
  served: boolean;
}

/** Opens the share records in the database at `url`, bringing their schema up to date. */
export async function openPostgresShareStore(url: string, options: OpenOptions = {}): Promise<ShareStore> {
  return new PostgresShareStore(await openPostgres(url, 'shares', MIGRATIONS, options));
}

/** Locks share `id`'s row until the transaction ends; false when there is no such share. */
async function lockShare(client: pg.ClientBase, id: string): Promise<boolean> {
  return ((await client.query('SELECT 1 FROM shares WHERE id = $1 FOR UPDATE', [id])).rowCount ?? 0) === 1;
}

/**
 * Lapses the share's open tickets idle since before `before` (its row must be locked);
 * each that had sent any ciphertext counts as a download. Returns how many lapsed.
 */
async function lapseShareTickets(client: pg.ClientBase, shareId: string, before: number): Promise<number> {
  const { rows } = await client.query<{ served: boolean }>(
    `UPDATE tickets SET state = 'lapsed' WHERE share_id = $1 AND state = 'open' AND last_active_at < $2
     RETURNING served`,
    [shareId, before],
  );
  const served = rows.filter((r) => r.served).length;
  if (served > 0) await client.query('UPDATE shares SET downloads = downloads + $2 WHERE id = $1', [shareId, served]);
  return rows.length;
}

class PostgresShareStore implements ShareStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async createShare(share: NewShare): Promise<CreateResult> {
    return transaction(this.#pool, async (client): Promise<CreateResult> => {
      const reused = share.slots.flatMap((slot) => ('reuseBlobId' in slot ? [slot.reuseBlobId] : []));
      // Held until commit: purgeDead cannot forget a blob this share is about to point at.
      if (reused.length > 0) await advisoryLock(client, BLOB_REUSE, true);
      if ((await client.query('SELECT 1 FROM shares WHERE id = $1', [share.id])).rowCount) return 'id-taken';
      // Only blobs a live share points at: the sweeper may already be removing a dead one's bytes.
      const live = await client.query<BlobRow>(`SELECT * FROM blobs b WHERE ${LIVE_REF} AND id = ANY($2::text[])`, [
        share.createdAt,
        reused,
      ]);
      const blobs = new Map(live.rows.map((b) => [b.id, b]));
      const sizes: number[] = [];
      const blobIds: Array<string | null> = [];
      for (const slot of share.slots) {
        if ('size' in slot) {
          sizes.push(slot.size);
          blobIds.push(null);
          continue;
        }
        const blob = blobs.get(slot.reuseBlobId);
        if (!blob?.sealed || blob.base !== 0) return 'blob-gone';
        sizes.push(blob.size);
        blobIds.push(blob.id);
      }
      const inserted = await client.query(
        `INSERT INTO shares (id, owner_hash, upload_hash, reader_hash, manifest, created_at, expires_at, max_downloads, password, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'uploading') ON CONFLICT (id) DO NOTHING`,
        [
          share.id,
          share.ownerHash,
          share.uploadHash,
          share.readerHash,
          share.manifest,
          share.createdAt,
          share.expiresAt,
          share.maxDownloads,
          share.password ? JSON.stringify(share.password) : null,
        ],
      );
      if (inserted.rowCount !== 1) return 'id-taken'; // created by another node since the check
      await client.query(
        `INSERT INTO slots (share_id, idx, size, blob_id)
         SELECT $1, t.n - 1, t.size, t.blob_id FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS t(size, blob_id, n)`,
        [share.id, sizes, blobIds],
      );
      return 'created';
    });
  }

  async getShare(id: string): Promise<ShareRecord | undefined> {
    // One statement, so the share and its slots come from one snapshot.
    const { rows } = await this.#pool.query<ShareRow>(
      `SELECT s.*, COALESCE((
         SELECT json_agg(json_build_object('idx', sl.idx, 'size', sl.size, 'blob_id', sl.blob_id,
                                           'sealed', b.sealed, 'token', b.token, 'base', b.base) ORDER BY sl.idx)
         FROM slots sl LEFT JOIN blobs b ON b.id = sl.blob_id WHERE sl.share_id = s.id), '[]') AS slots
       FROM shares s WHERE s.id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      ownerHash: row.owner_hash,
      uploadHash: row.upload_hash,
      readerHash: row.reader_hash,
      manifest: row.manifest,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      maxDownloads: row.max_downloads,
      downloads: row.downloads,
      password: row.password ? JSON.parse(row.password) : null,
      state: row.state,
      purged: row.purged,
      slots: row.slots.map((s) => ({
        index: s.idx,
        size: s.size,
        blobId: s.blob_id,
        sealed: s.sealed === true,
        base: s.base ?? 0,
        blobToken: s.sealed === true ? s.token : null,
      })),
    };
  }

  async updateShare(id: string, patch: { manifest?: string; expiresAt?: number }): Promise<void> {
    await this.#pool.query(
      'UPDATE shares SET manifest = COALESCE($2, manifest), expires_at = COALESCE($3, expires_at) WHERE id = $1',
      [id, patch.manifest ?? null, patch.expiresAt ?? null],
    );
  }

  async markReady(id: string): Promise<boolean> {
    return transaction(this.#pool, async (client) => {
      await lockShare(client, id);
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*) AS n FROM slots s LEFT JOIN blobs b ON b.id = s.blob_id
         WHERE s.share_id = $1 AND b.sealed IS NOT TRUE`,
        [id],
      );
      if (rows[0]!.n > 0) return false;
      await client.query(`UPDATE shares SET state = 'ready' WHERE id = $1 AND state = 'uploading'`, [id]);
      return true;
    });
  }

  async revokeShare(id: string, now: number): Promise<void> {
    await this.#pool.query(
      `UPDATE shares SET state = 'revoked', revoked_at = $1 WHERE id = $2 AND state <> 'revoked'`,
      [now, id],
    );
  }

  async getBlob(id: string): Promise<BlobRecord | undefined> {
    const row = (await this.#pool.query<BlobRow>('SELECT * FROM blobs WHERE id = $1', [id])).rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      size: row.size,
      sealed: row.sealed,
      token: row.token,
      shareId: row.share_id,
      index: row.slot_index,
      createdAt: row.created_at,
      base: row.base,
    };
  }

  async claimSlot(
    shareId: string,
    index: number,
    blobId: string,
    size: number,
    now: number,
    base = 0,
  ): Promise<ClaimResult> {
    return transaction(this.#pool, async (client): Promise<ClaimResult> => {
      if (!(await lockShare(client, shareId))) return 'no-slot';
      const slot = (
        await client.query<{ size: number; blob_id: string | null; sealed: boolean | null }>(
          `SELECT s.size, s.blob_id, b.sealed FROM slots s LEFT JOIN blobs b ON b.id = s.blob_id
           WHERE s.share_id = $1 AND s.idx = $2`,
          [shareId, index],
        )
      ).rows[0];
      if (!slot) return 'no-slot';
      if (slot.blob_id !== null) return slot.sealed ? 'sealed' : 'in-progress';
      if (slot.size !== base + size) return 'length-mismatch';
      await client.query(
        'INSERT INTO blobs (id, size, sealed, share_id, slot_index, created_at, base) VALUES ($1, $2, false, $3, $4, $5, $6)',
        [blobId, size, shareId, index, now, base],
      );
      await client.query('UPDATE slots SET blob_id = $1 WHERE share_id = $2 AND idx = $3', [blobId, shareId, index]);
      return 'claimed';
    });
  }

  async sealBlob(blobId: string, token: string): Promise<boolean> {
    const result = await this.#pool.query('UPDATE blobs SET sealed = true, token = $1 WHERE id = $2 AND NOT sealed', [
      token,
      blobId,
    ]);
    return result.rowCount === 1;
  }

  async releaseBlob(blobId: string): Promise<void> {
    await transaction(this.#pool, async (client) => {
      const blob = (await client.query<{ share_id: string }>('SELECT share_id FROM blobs WHERE id = $1', [blobId]))
        .rows[0];
      if (!blob) return;
      await lockShare(client, blob.share_id);
      const deleted = await client.query('DELETE FROM blobs WHERE id = $1 AND NOT sealed', [blobId]);
      if (deleted.rowCount === 1) await client.query('UPDATE slots SET blob_id = NULL WHERE blob_id = $1', [blobId]);
    });
  }

  async grantTicket(t: TicketGrant): Promise<GrantResult> {
    return transaction(this.#pool, async (client): Promise<GrantResult> => {
      if (!(await lockShare(client, t.shareId))) return 'gone';
      const idleBefore = t.now - t.idleMs;
      await lapseShareTickets(client, t.shareId, idleBefore);
      const share = (
        await client.query<{ downloads: number; max_downloads: number | null; busy: number }>(
          `SELECT downloads, max_downloads,
                  (SELECT count(*) FROM tickets WHERE share_id = $1 AND state = 'open' AND last_active_at >= $2) AS busy
           FROM shares WHERE id = $1`,
          [t.shareId, idleBefore],
        )
      ).rows[0]!;
      if (t.purpose === 'thumbnail' && share.max_downloads !== null) return 'limited';
      if (share.max_downloads !== null && share.downloads + share.busy >= share.max_downloads) return 'limit-reached';
      if (share.busy >= t.maxOpen) return 'too-many-open';
      const named = [...new Set(t.files)];
      const slots = (
        await client.query<{ size: number }>('SELECT size FROM slots WHERE share_id = $1 AND idx = ANY($2::int[])', [
          t.shareId,
          named,
        ])
      ).rows;
      // Throwing rolls the grant back, as the SQLite store does.
      if (slots.length !== named.length) throw new RangeError(`share has no file among ${named.join(', ')}`);
      const pending = slots.filter((slot) => slot.size > 0).length;
      await client.query(
        `INSERT INTO tickets (hash, share_id, state, last_active_at, files, pending, purpose)
         VALUES ($1, $2, 'open', $3, $4, $5, $6)`,
        [t.hash, t.shareId, t.now, encodeFileSet(t.files), pending, t.purpose ?? 'download'],
      );
      return 'granted';
    });
  }

  async getTicket(hash: string): Promise<TicketRecord | undefined> {
    const row = (await this.#pool.query<TicketRow>('SELECT * FROM tickets WHERE hash = $1', [hash])).rows[0];
    if (!row) return undefined;
    return {
      hash: row.hash,
      shareId: row.share_id,
      files: decodeFileSet(row.files),
      purpose: row.purpose,
      state: row.state,
      lastActiveAt: row.last_active_at,
      completedAt: row.completed_at,
    };
  }

  async touchTicket(hash: string, now: number, idleMs: number): Promise<boolean> {
    // A lapse running at the same time holds the row: this waits for it and then sees 'lapsed'.
    const result = await this.#pool.query(
      `UPDATE tickets SET last_active_at = $1 WHERE hash = $2 AND state = 'open' AND last_active_at >= $3`,
      [now, hash, now - idleMs],
    );
    return result.rowCount === 1;
  }

  async coverage(hash: string, index: number): Promise<Interval[]> {
    const row = (
      await this.#pool.query<{ covered: string }>(
        'SELECT covered FROM ticket_pieces WHERE ticket_hash = $1 AND idx = $2',
        [hash, index],
      )
    ).rows[0];
    return row ? parseIntervals(row.covered) : [];
  }

  async recordCoverage(hash: string, index: number, start: number, end: number, now: number) {
    return transaction(this.#pool, async (client): Promise<CoverageResult> => {
      const owner = (await client.query<{ share_id: string }>('SELECT share_id FROM tickets WHERE hash = $1', [hash]))
        .rows[0];
      if (!owner) return 'ignored';
      await lockShare(client, owner.share_id);
      // Read again under the locks: the ticket may have lapsed, completed or gone meanwhile.
      const ticket = (await client.query<TicketRow>('SELECT * FROM tickets WHERE hash = $1 FOR UPDATE', [hash]))
        .rows[0];
      if (!ticket || ticket.purpose === 'thumbnail' || !fileSetHas(ticket.files, index)) return 'ignored';
      const size =
        (
          await client.query<{ size: number }>('SELECT size FROM slots WHERE share_id = $1 AND idx = $2', [
            ticket.share_id,
            index,
          ])
        ).rows[0]?.size ?? 0;
      const setPiece = (covered: Interval[]) =>
        client.query(
          `INSERT INTO ticket_pieces (ticket_hash, idx, covered) VALUES ($1, $2, $3)
           ON CONFLICT (ticket_hash, idx) DO UPDATE SET covered = EXCLUDED.covered`,
          [hash, index, JSON.stringify(covered)],
        );
      const setProgress = (pending: number) =>
        client.query('UPDATE tickets SET pending = $1, served = true WHERE hash = $2', [pending, hash]);
      const countDownload = () =>
        client.query('UPDATE shares SET downloads = downloads + 1 WHERE id = $1', [ticket.share_id]);
      if (ticket.state === 'lapsed' && end > start) {
        // Bytes of a response still in flight when its ticket lapsed with nothing recorded
        // (so it was not counted then): they were sent, so the ticket counts now.
        if (!ticket.served) {
          await setPiece([[start, end]]);
          await setProgress(ticket.pending);
          await countDownload();
        }
        return 'ignored';
      }
      if (ticket.state !== 'open') return 'ignored';
      const before = parseIntervals(
        (
          await client.query<{ covered: string }>(
            'SELECT covered FROM ticket_pieces WHERE ticket_hash = $1 AND idx = $2',
            [hash, index],
          )
        ).rows[0]?.covered ?? '[]',
      );
      const after = addInterval(before, Math.max(0, start), Math.min(end, size));
      let pending = ticket.pending;
      if (after.length <= MAX_PIECES && after.length > 0) {
        await setPiece(after);
        if (!coversAll(before, size) && coversAll(after, size)) pending--;
        await setProgress(pending);
      }
      if (pending > 0) {
        await client.query('UPDATE tickets SET last_active_at = $1 WHERE hash = $2', [now, hash]);
        return 'partial';
      }
      await client.query(`UPDATE tickets SET state = 'done', completed_at = $1, last_active_at = $1 WHERE hash = $2`, [
        now,
        hash,
      ]);
      await countDownload();
      return 'completed';
    });
  }

  async purgeDead(now: number, tombstoneMs: number): Promise<string[]> {
    return transaction(this.#pool, async (client) => {
      // Exclusive: no share being created can point at a blob found orphaned below.
      await advisoryLock(client, BLOB_REUSE);
      const dead = (
        await client.query<{ id: string }>(
          `SELECT id FROM shares WHERE NOT purged AND (state = 'revoked' OR expires_at <= $1) ORDER BY id FOR UPDATE`,
          [now],
        )
      ).rows.map((r) => r.id);
      if (dead.length > 0) {
        await client.query('DELETE FROM tickets WHERE share_id = ANY($1::text[])', [dead]);
        await client.query('DELETE FROM slots WHERE share_id = ANY($1::text[])', [dead]);
        await client.query(
          `UPDATE shares SET purged = true, manifest = '', password = NULL WHERE id = ANY($1::text[])`,
          [dead],
        );
      }
      await client.query('DELETE FROM shares WHERE purged AND GREATEST(expires_at, COALESCE(revoked_at, 0)) < $1', [
        now - tombstoneMs,
      ]);
      const orphans = await client.query<{ id: string }>(
        'DELETE FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM slots s WHERE s.blob_id = b.id) RETURNING id',
      );
      return orphans.rows.map((r) => r.id);
    });
  }

  async lapseTickets(before: number): Promise<number> {
    const shares = await this.#pool.query<{ share_id: string }>(
      `SELECT DISTINCT share_id FROM tickets WHERE state = 'open' AND last_active_at < $1`,
      [before],
    );
    let lapsed = 0;
    // One transaction per share, under its lock, as grantTicket lapses them.
    for (const { share_id } of shares.rows) {
      lapsed += await transaction(this.#pool, async (client) =>
        (await lockShare(client, share_id)) ? lapseShareTickets(client, share_id, before) : 0,
      );
    }
    return lapsed;
  }

  async forgetEndedTickets(before: number): Promise<number> {
    const result = await this.#pool.query(`DELETE FROM tickets WHERE state <> 'open' AND last_active_at < $1`, [
      before,
    ]);
    return result.rowCount ?? 0;
  }

  async deadBlobs(now: number): Promise<string[]> {
    return transaction(this.#pool, async (client) => {
      // Exclusive: a share being created that reuses one of them commits first, and is seen.
      await advisoryLock(client, BLOB_REUSE);
      const { rows } = await client.query<{ id: string }>(`SELECT id FROM blobs b WHERE NOT ${LIVE_REF}`, [now]);
      return rows.map((r) => r.id);
    });
  }

  async stats(now: number): Promise<ShareStats> {
    const { rows } = await this.#pool.query<{
      live: number;
      bytes: number;
      tickets: Partial<Record<TicketState, number>>;
    }>(
      `SELECT
         (SELECT count(*) FROM shares WHERE NOT purged AND state <> 'revoked' AND expires_at > $1) AS live,
         (SELECT COALESCE(sum(size), 0)::bigint FROM blobs) AS bytes,
         (SELECT COALESCE(json_object_agg(state, n), '{}') FROM
           (SELECT state, count(*) AS n FROM tickets GROUP BY state) t) AS tickets`,
      [now],
    );
    const row = rows[0]!;
    return { liveShares: row.live, storedBytes: row.bytes, tickets: { open: 0, done: 0, lapsed: 0, ...row.tickets } };
  }

  async checkWritable(): Promise<void> {
    await this.#pool.query(
      'INSERT INTO probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at',
      [Date.now()],
    );
  }

  async unsealedBlobsBefore(before: number): Promise<string[]> {
    const { rows } = await this.#pool.query<{ id: string }>(
      'SELECT id FROM blobs WHERE NOT sealed AND created_at < $1',
      [before],
    );
    return rows.map((r) => r.id);
  }

  async unknownBlobs(ids: string[]): Promise<string[]> {
    const { rows } = await this.#pool.query<{ id: string }>('SELECT id FROM blobs WHERE id = ANY($1::text[])', [ids]);
    const known = new Set(rows.map((r) => r.id));
    return ids.filter((id) => !known.has(id));
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
