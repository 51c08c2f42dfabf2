/**
 * ShareStore on SQLite (better-sqlite3). Synchronous calls inside one process mean each
 * `transaction()` below runs without interleaving; `.immediate` also takes the write lock
 * first, so a second process on the same file could not interleave either.
 */
import type Database from 'better-sqlite3';
import { openDatabase } from '../sqlite.ts';
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
  SlotRecord,
  TicketGrant,
  TicketPurpose,
  TicketRecord,
  TicketState,
} from './store.ts';

/** Schema versions, applied in order; PRAGMA user_version records how far a file got. */
export const SHARE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE shares (
     id TEXT PRIMARY KEY,
     owner_hash TEXT NOT NULL,
     upload_hash TEXT NOT NULL,
     reader_hash TEXT NOT NULL,
     manifest TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     max_downloads INTEGER,
     downloads INTEGER NOT NULL DEFAULT 0,
     password TEXT,
     state TEXT NOT NULL CHECK (state IN ('uploading', 'ready', 'revoked')),
     revoked_at INTEGER,
     purged INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE blobs (
     id TEXT PRIMARY KEY,
     size INTEGER NOT NULL,
     sealed INTEGER NOT NULL DEFAULT 0,
     token TEXT,
     share_id TEXT NOT NULL,
     slot_index INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE slots (
     share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     size INTEGER NOT NULL,
     blob_id TEXT,
     PRIMARY KEY (share_id, idx)
   );
   CREATE INDEX slots_blob ON slots(blob_id);
   CREATE TABLE tickets (
     hash TEXT PRIMARY KEY,
     share_id TEXT NOT NULL REFERENCES shares(id) ON DELETE CASCADE,
     state TEXT NOT NULL CHECK (state IN ('open', 'done', 'lapsed')),
     last_active_at INTEGER NOT NULL,
     completed_at INTEGER
   );
   CREATE INDEX tickets_share ON tickets(share_id, state);
   CREATE TABLE ticket_files (
     ticket_hash TEXT NOT NULL REFERENCES tickets(hash) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     size INTEGER NOT NULL,
     covered TEXT NOT NULL DEFAULT '[]',
     PRIMARY KEY (ticket_hash, idx)
   );`,
  // A relay fallback uploads a file from a record-aligned offset: the bytes before it are not stored.
  'ALTER TABLE blobs ADD COLUMN base INTEGER NOT NULL DEFAULT 0;',
  // A ticket names its files in one column (file-set.ts) and keeps a row of coverage only
  // for a file it has sent bytes of: a row per named file made a ticket of 1,000 files
  // cost ~160 KiB (issue 9). `pending` counts named files of any size not yet sent whole,
  // `served` whether any ciphertext was sent. A full cover of [0, size) is stored as
  // exactly [[0,size]] (addInterval clamps to the file), which the migration relies on.
  `CREATE TABLE ticket_pieces (
     ticket_hash TEXT NOT NULL REFERENCES tickets(hash) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     covered TEXT NOT NULL,
     PRIMARY KEY (ticket_hash, idx)
   ) WITHOUT ROWID;
   INSERT INTO ticket_pieces SELECT ticket_hash, idx, covered FROM ticket_files WHERE covered != '[]';
   ALTER TABLE tickets ADD COLUMN files TEXT NOT NULL DEFAULT '';
   ALTER TABLE tickets ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE tickets ADD COLUMN served INTEGER NOT NULL DEFAULT 0;
   UPDATE tickets SET
     files = coalesce((SELECT group_concat(idx, ',') FROM
       (SELECT idx FROM ticket_files f WHERE f.ticket_hash = tickets.hash ORDER BY idx)), ''),
     pending = (SELECT count(*) FROM ticket_files f WHERE f.ticket_hash = tickets.hash
       AND f.size > 0 AND f.covered != '[[0,' || f.size || ']]'),
     served = EXISTS (SELECT 1 FROM ticket_files f WHERE f.ticket_hash = tickets.hash AND f.covered != '[]');
   DROP TABLE ticket_files;
   CREATE INDEX tickets_state ON tickets(state, last_active_at);`,
  // One row the readiness probe rewrites: a write that fails when the disk is full.
  'CREATE TABLE probe (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);',
  // A thumbnail ticket (store.ts TicketPurpose) reads a file's first records and never counts.
  `ALTER TABLE tickets ADD COLUMN purpose TEXT NOT NULL DEFAULT 'download';`,
];

/** Blobs that a slot of a live (unexpired, unrevoked) share points at. */
const LIVE_REF = `EXISTS (SELECT 1 FROM slots s JOIN shares sh ON sh.id = s.share_id
  WHERE s.blob_id = b.id AND sh.state != 'revoked' AND sh.expires_at > ?)`;

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
  purged: number;
}
interface SlotRow {
  idx: number;
  size: number;
  blob_id: string | null;
  sealed: number | null;
  token: string | null;
  base: number | null;
}
interface BlobRow {
  id: string;
  size: number;
  sealed: number;
  token: string | null;
  share_id: string;
  slot_index: number;
  created_at: number;
  base: number;
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
  served: number;
}

export function openSqliteShareStore(file: string): ShareStore {
  return new SqliteShareStore(openDatabase(file, SHARE_MIGRATIONS));
}

class SqliteShareStore implements ShareStore {
  readonly #db: Database.Database;
  readonly #q;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#q = {
      insertShare: db.prepare(
        `INSERT INTO shares (id, owner_hash, upload_hash, reader_hash, manifest, created_at, expires_at, max_downloads, password, state)
         VALUES (@id, @ownerHash, @uploadHash, @readerHash, @manifest, @createdAt, @expiresAt, @maxDownloads, @password, 'uploading')`,
      ),
      insertSlot: db.prepare('INSERT INTO slots (share_id, idx, size, blob_id) VALUES (?, ?, ?, ?)'),
      share: db.prepare<[string], ShareRow>('SELECT * FROM shares WHERE id = ?'),
      slots: db.prepare<[string], SlotRow>(
        `SELECT s.idx, s.size, s.blob_id, b.sealed, b.token, b.base FROM slots s
         LEFT JOIN blobs b ON b.id = s.blob_id WHERE s.share_id = ? ORDER BY s.idx`,
      ),
      setManifest: db.prepare('UPDATE shares SET manifest = ? WHERE id = ?'),
      setExpiry: db.prepare('UPDATE shares SET expires_at = ? WHERE id = ?'),
      unsealedCount: db.prepare<[string], { n: number }>(
        `SELECT count(*) AS n FROM slots s LEFT JOIN blobs b ON b.id = s.blob_id
         WHERE s.share_id = ? AND (b.sealed IS NULL OR b.sealed = 0)`,
      ),
      setReady: db.prepare(`UPDATE shares SET state = 'ready' WHERE id = ? AND state = 'uploading'`),
      revoke: db.prepare(`UPDATE shares SET state = 'revoked', revoked_at = ? WHERE id = ? AND state != 'revoked'`),
      blob: db.prepare<[string], BlobRow>('SELECT * FROM blobs WHERE id = ?'),
      slot: db.prepare<[string, number], { size: number; blob_id: string | null }>(
        'SELECT size, blob_id FROM slots WHERE share_id = ? AND idx = ?',
      ),
      insertBlob: db.prepare(
        'INSERT INTO blobs (id, size, sealed, share_id, slot_index, created_at, base) VALUES (?, ?, 0, ?, ?, ?, ?)',
      ),
      pointSlot: db.prepare('UPDATE slots SET blob_id = ? WHERE share_id = ? AND idx = ?'),
      seal: db.prepare('UPDATE blobs SET sealed = 1, token = ? WHERE id = ? AND sealed = 0'),
      freeSlots: db.prepare('UPDATE slots SET blob_id = NULL WHERE blob_id = ?'),
      deleteUnsealedBlob: db.prepare('DELETE FROM blobs WHERE id = ? AND sealed = 0'),
      countBusy: db.prepare<[string, number], { n: number }>(
        `SELECT count(*) AS n FROM tickets WHERE share_id = ? AND state = 'open' AND last_active_at >= ?`,
      ),
      insertTicket: db.prepare(
        `INSERT INTO tickets (hash, share_id, state, last_active_at, files, pending, purpose) VALUES (?, ?, 'open', ?, ?, ?, ?)`,
      ),
      ticket: db.prepare<[string], TicketRow>('SELECT * FROM tickets WHERE hash = ?'),
      touchTicket: db.prepare(`UPDATE tickets SET last_active_at = ? WHERE hash = ? AND state = 'open'`),
      touchLiveTicket: db.prepare(
        `UPDATE tickets SET last_active_at = ? WHERE hash = ? AND state = 'open' AND last_active_at >= ?`,
      ),
      piece: db.prepare<[string, number], { covered: string }>(
        'SELECT covered FROM ticket_pieces WHERE ticket_hash = ? AND idx = ?',
      ),
      setPiece: db.prepare('INSERT OR REPLACE INTO ticket_pieces (ticket_hash, idx, covered) VALUES (?, ?, ?)'),
      setProgress: db.prepare('UPDATE tickets SET pending = ?, served = ? WHERE hash = ?'),
      completeTicket: db.prepare(
        `UPDATE tickets SET state = 'done', completed_at = ? WHERE hash = ? AND state = 'open'`,
      ),
      countDownload: db.prepare('UPDATE shares SET downloads = downloads + 1 WHERE id = ?'),
      deadShares: db.prepare<[number], { id: string }>(
        `SELECT id FROM shares WHERE purged = 0 AND (state = 'revoked' OR expires_at <= ?)`,
      ),
      deleteSlotsOf: db.prepare('DELETE FROM slots WHERE share_id = ?'),
      deleteTicketsOf: db.prepare('DELETE FROM tickets WHERE share_id = ?'),
      tombstone: db.prepare(`UPDATE shares SET purged = 1, manifest = '', password = NULL WHERE id = ?`),
      dropTombstones: db.prepare(
        'DELETE FROM shares WHERE purged = 1 AND max(expires_at, coalesce(revoked_at, 0)) < ?',
      ),
      orphanBlobs: db.prepare<[], { id: string }>(
        'SELECT id FROM blobs WHERE NOT EXISTS (SELECT 1 FROM slots WHERE slots.blob_id = blobs.id)',
      ),
      deleteBlob: db.prepare('DELETE FROM blobs WHERE id = ?'),
      idleTickets: db.prepare<[number], { hash: string; share_id: string; served: number }>(
        `SELECT hash, share_id, served FROM tickets WHERE state = 'open' AND last_active_at < ?`,
      ),
      idleTicketsOf: db.prepare<[string, number], { hash: string; share_id: string; served: number }>(
        `SELECT hash, share_id, served FROM tickets WHERE share_id = ? AND state = 'open' AND last_active_at < ?`,
      ),
      forgetEnded: db.prepare(`DELETE FROM tickets WHERE state != 'open' AND last_active_at < ?`),
      lapseTicket: db.prepare(`UPDATE tickets SET state = 'lapsed' WHERE hash = ? AND state = 'open'`),
      unsealedBefore: db.prepare<[number], { id: string }>('SELECT id FROM blobs WHERE sealed = 0 AND created_at < ?'),
      hasBlob: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM blobs WHERE id = ?'),
      liveShares: db.prepare<[number], { n: number }>(
        `SELECT count(*) AS n FROM shares WHERE purged = 0 AND state != 'revoked' AND expires_at > ?`,
      ),
      storedBytes: db.prepare<[], { n: number }>('SELECT coalesce(sum(size), 0) AS n FROM blobs'),
      ticketsByState: db.prepare<[], { state: TicketState; n: number }>(
        'SELECT state, count(*) AS n FROM tickets GROUP BY state',
      ),
      liveBlob: db.prepare<[string, number], { one: number }>(
        `SELECT 1 AS one FROM blobs b WHERE id = ? AND ${LIVE_REF}`,
      ),
      deadBlobs: db.prepare<[number], { id: string }>(`SELECT id FROM blobs b WHERE NOT ${LIVE_REF}`),
      probe: db.prepare('INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at'),
    };
  }

  async createShare(share: NewShare): Promise<CreateResult> {
    return this.#db
      .transaction((): CreateResult => {
        if (this.#q.share.get(share.id)) return 'id-taken';
        const resolved: Array<{ size: number; blobId: string | null }> = [];
        for (const slot of share.slots) {
          if ('size' in slot) {
            resolved.push({ size: slot.size, blobId: null });
            continue;
          }
          const blob = this.#q.blob.get(slot.reuseBlobId);
          if (!blob?.sealed || blob.base !== 0) return 'blob-gone';
          // Its shares all died: the sweeper may already have removed its bytes.
          if (!this.#q.liveBlob.get(blob.id, share.createdAt)) return 'blob-gone';
          resolved.push({ size: blob.size, blobId: blob.id });
        }
        this.#q.insertShare.run({ ...share, password: share.password ? JSON.stringify(share.password) : null });
        resolved.forEach((slot, index) => {
          this.#q.insertSlot.run(share.id, index, slot.size, slot.blobId);
        });
        return 'created';
      })
      .immediate();
  }

  async getShare(id: string): Promise<ShareRecord | undefined> {
    const row = this.#q.share.get(id);
    if (!row) return undefined;
    const slots: SlotRecord[] = this.#q.slots.all(id).map((s) => ({
      index: s.idx,
      size: s.size,
      blobId: s.blob_id,
      sealed: s.sealed === 1,
      base: s.base ?? 0,
      blobToken: s.sealed === 1 ? s.token : null,
    }));
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
      purged: row.purged === 1,
      slots,
    };
  }

  async updateShare(id: string, patch: { manifest?: string; expiresAt?: number }): Promise<void> {
    this.#db.transaction(() => {
      if (patch.manifest !== undefined) this.#q.setManifest.run(patch.manifest, id);
      if (patch.expiresAt !== undefined) this.#q.setExpiry.run(patch.expiresAt, id);
    })();
  }

  async markReady(id: string): Promise<boolean> {
    return this.#db
      .transaction(() => {
        if (this.#q.unsealedCount.get(id)!.n > 0) return false;
        this.#q.setReady.run(id);
        return true;
      })
      .immediate();
  }

  async revokeShare(id: string, now: number): Promise<void> {
    this.#q.revoke.run(now, id);
  }

  async getBlob(id: string): Promise<BlobRecord | undefined> {
    const row = this.#q.blob.get(id);
    if (!row) return undefined;
    return {
      id: row.id,
      size: row.size,
      sealed: row.sealed === 1,
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
    return this.#db
      .transaction((): ClaimResult => {
        const slot = this.#q.slot.get(shareId, index);
        if (!slot) return 'no-slot';
        if (slot.blob_id !== null) return this.#q.blob.get(slot.blob_id)?.sealed ? 'sealed' : 'in-progress';
        if (slot.size !== base + size) return 'length-mismatch';
        this.#q.insertBlob.run(blobId, size, shareId, index, now, base);
        this.#q.pointSlot.run(blobId, shareId, index);
        return 'claimed';
      })
      .immediate();
  }

  async sealBlob(blobId: string, token: string): Promise<boolean> {
    return this.#q.seal.run(token, blobId).changes === 1;
  }

  async releaseBlob(blobId: string): Promise<void> {
    this.#db.transaction(() => {
      if (this.#q.deleteUnsealedBlob.run(blobId).changes === 1) this.#q.freeSlots.run(blobId);
    })();
  }

  async grantTicket(t: TicketGrant) {
    return this.#db
      .transaction((): GrantResult => {
        if (!this.#q.share.get(t.shareId)) return 'gone';
        this.#lapse(this.#q.idleTicketsOf.all(t.shareId, t.now - t.idleMs));
        const share = this.#q.share.get(t.shareId)!;
        if (t.purpose === 'thumbnail' && share.max_downloads !== null) return 'limited';
        const busy = this.#q.countBusy.get(t.shareId, t.now - t.idleMs)!.n;
        if (share.max_downloads !== null && share.downloads + busy >= share.max_downloads) return 'limit-reached';
        if (busy >= t.maxOpen) return 'too-many-open';
        let pending = 0;
        for (const index of new Set(t.files)) {
          const slot = this.#q.slot.get(t.shareId, index);
          if (!slot) throw new RangeError(`share has no file ${index}`);
          if (slot.size > 0) pending++;
        }
        this.#q.insertTicket.run(t.hash, t.shareId, t.now, encodeFileSet(t.files), pending, t.purpose ?? 'download');
        return 'granted';
      })
      .immediate();
  }

  async getTicket(hash: string): Promise<TicketRecord | undefined> {
    const row = this.#q.ticket.get(hash);
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
    return this.#q.touchLiveTicket.run(now, hash, now - idleMs).changes === 1;
  }

  async coverage(hash: string, index: number): Promise<Interval[]> {
    const row = this.#q.piece.get(hash, index);
    return row ? parseIntervals(row.covered) : [];
  }

  async recordCoverage(hash: string, index: number, start: number, end: number, now: number) {
    return this.#db
      .transaction((): CoverageResult => {
        const ticket = this.#q.ticket.get(hash);
        if (!ticket || ticket.purpose === 'thumbnail' || !fileSetHas(ticket.files, index)) return 'ignored';
        const size = this.#q.slot.get(ticket.share_id, index)?.size ?? 0;
        if (ticket.state === 'lapsed' && end > start) {
          // Bytes of a response still in flight when its ticket lapsed with nothing recorded
          // (so it was not counted then): they were sent, so the ticket counts now.
          if (!ticket.served) {
            this.#q.setPiece.run(hash, index, JSON.stringify([[start, end]]));
            this.#q.setProgress.run(ticket.pending, 1, hash);
            this.#q.countDownload.run(ticket.share_id);
          }
          return 'ignored';
        }
        if (ticket.state !== 'open') return 'ignored';
        const before: Interval[] = parseIntervals(this.#q.piece.get(hash, index)?.covered ?? '[]');
        const after = addInterval(before, Math.max(0, start), Math.min(end, size));
        let { pending, served } = ticket;
        if (after.length <= MAX_PIECES && after.length > 0) {
          this.#q.setPiece.run(hash, index, JSON.stringify(after));
          served = 1;
          if (!coversAll(before, size) && coversAll(after, size)) pending--;
          this.#q.setProgress.run(pending, served, hash);
        }
        this.#q.touchTicket.run(now, hash);
        if (pending > 0) return 'partial';
        this.#q.completeTicket.run(now, hash);
        this.#q.countDownload.run(ticket.share_id);
        return 'completed';
      })
      .immediate();
  }

  async purgeDead(now: number, tombstoneMs: number): Promise<string[]> {
    return this.#db
      .transaction(() => {
        for (const { id } of this.#q.deadShares.all(now)) {
          this.#q.deleteTicketsOf.run(id);
          this.#q.deleteSlotsOf.run(id);
          this.#q.tombstone.run(id);
        }
        this.#q.dropTombstones.run(now - tombstoneMs);
        const orphans = this.#q.orphanBlobs.all().map((b) => b.id);
        for (const id of orphans) this.#q.deleteBlob.run(id);
        return orphans;
      })
      .immediate();
  }

  async lapseTickets(before: number): Promise<number> {
    return this.#db.transaction(() => this.#lapse(this.#q.idleTickets.all(before))).immediate();
  }

  async forgetEndedTickets(before: number): Promise<number> {
    return this.#q.forgetEnded.run(before).changes;
  }

  /** Lapses idle open tickets; each that had sent any ciphertext counts as a download. */
  #lapse(idle: Array<{ hash: string; share_id: string; served: number }>): number {
    let lapsed = 0;
    for (const ticket of idle) {
      if (this.#q.lapseTicket.run(ticket.hash).changes !== 1) continue;
      lapsed++;
      if (ticket.served) this.#q.countDownload.run(ticket.share_id);
    }
    return lapsed;
  }

  async unsealedBlobsBefore(before: number): Promise<string[]> {
    return this.#q.unsealedBefore.all(before).map((b) => b.id);
  }

  async unknownBlobs(ids: string[]): Promise<string[]> {
    return ids.filter((id) => !this.#q.hasBlob.get(id));
  }

  async stats(now: number): Promise<ShareStats> {
    const tickets: Record<TicketState, number> = { open: 0, done: 0, lapsed: 0 };
    for (const { state, n } of this.#q.ticketsByState.all()) tickets[state] = n;
    return {
      liveShares: this.#q.liveShares.get(now)?.n ?? 0,
      storedBytes: this.#q.storedBytes.get()?.n ?? 0,
      tickets,
    };
  }

  async deadBlobs(now: number): Promise<string[]> {
    return this.#q.deadBlobs.all(now).map((b) => b.id);
  }

  async checkWritable(): Promise<void> {
    this.#q.probe.run(Date.now());
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
