/**
 * ShareStore: the records behind shares — shares, their file slots, blobs (tus uploads) and
 * download tickets. Today SQLite (sqlite-store.ts); later any SQL engine or Redis. Every
 * method that must be atomic under concurrency (claiming a slot, granting a ticket,
 * counting a download) is one method here, so each implementation makes it one transaction.
 * Times are milliseconds since the epoch. Tokens appear only as SHA-256 hex.
 */
import type { PasswordWrap } from '../../shared/password.ts';

export type ShareState = 'uploading' | 'ready' | 'revoked';

export interface SlotRecord {
  index: number;
  /** Ciphertext bytes. */
  size: number;
  blobId: string | null;
  sealed: boolean;
  /** Ciphertext bytes before the upload's first byte (0 unless a relay fallback started mid-file). */
  base: number;
  /** Capability to reuse the sealed blob in another share (not a user secret). */
  blobToken: string | null;
}

export interface ShareRecord {
  id: string;
  ownerHash: string;
  uploadHash: string;
  readerHash: string;
  manifest: string;
  createdAt: number;
  expiresAt: number;
  maxDownloads: number | null;
  downloads: number;
  password: PasswordWrap | null;
  state: ShareState;
  /** Expired or revoked and already swept: only a tombstone that answers 410 remains. */
  purged: boolean;
  slots: SlotRecord[];
}

export interface BlobRecord {
  id: string;
  /** Bytes of the upload itself (the slot's size minus `base`). */
  size: number;
  /** Where in the file's ciphertext the upload starts. */
  base: number;
  sealed: boolean;
  token: string | null;
  /** The share and slot whose tus upload created this blob. */
  shareId: string;
  index: number;
  createdAt: number;
}

export type TicketState = 'open' | 'done' | 'lapsed';
/**
 * `download`: counts as a download when it completes or lapses having sent bytes;
 * `thumbnail`: granted only on shares without a download limit, reads only a file's first
 * records (get-file.ts) and never counts.
 */
export type TicketPurpose = 'download' | 'thumbnail';

export interface TicketRecord {
  hash: string;
  shareId: string;
  files: number[];
  purpose: TicketPurpose;
  state: TicketState;
  lastActiveAt: number;
  completedAt: number | null;
}

export interface NewShare {
  id: string;
  ownerHash: string;
  uploadHash: string;
  readerHash: string;
  manifest: string;
  createdAt: number;
  expiresAt: number;
  maxDownloads: number | null;
  password: PasswordWrap | null;
  /** One per file: ciphertext still to upload, or a sealed blob to point at. */
  slots: Array<{ size: number } | { reuseBlobId: string }>;
}

/** `in-progress`: the slot points at an unsealed upload; `sealed`: at a finished one. */
export type CreateResult = 'created' | 'blob-gone' | 'id-taken';
export type ClaimResult = 'claimed' | 'no-slot' | 'in-progress' | 'sealed' | 'length-mismatch';
export type CoverageResult = 'completed' | 'partial' | 'ignored';
/**
 * `limit-reached`: downloads plus open tickets have reached maxDownloads; `too-many-open`:
 * the share has `maxOpen` open, non-idle tickets already; `gone`: no such share.
 */
/** A ticket to grant: its token's hash, the files it names, and the share's limits at `now`. */
export interface TicketGrant {
  hash: string;
  shareId: string;
  files: number[];
  now: number;
  idleMs: number;
  /** Open, non-idle tickets the share may have. */
  maxOpen: number;
  /** 'download' when absent. */
  purpose?: TicketPurpose;
}
/** `limited`: a thumbnail ticket asked for on a share with a download limit. */
export type GrantResult = 'granted' | 'limit-reached' | 'too-many-open' | 'gone' | 'limited';

export interface ShareStore {
  /**
   * Inserts a share; `blob-gone` when a reused blob is gone, not sealed, partial (starts
   * past byte 0) or dead (no live share points at it, see deadBlobs), `id-taken` when a share (or its tombstone) has the id: nothing is written then.
   */
  createShare(share: NewShare): Promise<CreateResult>;
  getShare(id: string): Promise<ShareRecord | undefined>;
  updateShare(id: string, patch: { manifest?: string; expiresAt?: number }): Promise<void>;
  /** Sets state ready; false (and no change) unless every slot's blob is sealed. */
  markReady(id: string): Promise<boolean>;
  revokeShare(id: string, now: number): Promise<void>;

  getBlob(id: string): Promise<BlobRecord | undefined>;
  /**
   * Atomically points an empty slot at a new, unsealed blob holding the slot's ciphertext
   * from byte `base` on: `base + size` must be exactly the slot's size.
   */
  claimSlot(
    shareId: string,
    index: number,
    blobId: string,
    size: number,
    now: number,
    base?: number,
  ): Promise<ClaimResult>;
  /** Marks an unsealed blob sealed with its reuse token; false if it is unknown or already sealed. */
  sealBlob(blobId: string, token: string): Promise<boolean>;
  /** Forgets an unsealed blob and frees its slot (tus termination, vanished upload). */
  releaseBlob(blobId: string): Promise<void>;

  /**
   * Grants a ticket only while downloads + open, non-idle tickets < maxDownloads and open,
   * non-idle tickets < maxOpen, in one transaction: racing recipients can never exceed
   * either. Idle tickets of the share lapse first, in the same transaction, as in
   * lapseTickets. A ticket's record stays small however many files it names. A thumbnail
   * ticket is refused (`limited`) on a share with a download limit and takes no counted place.
   */
  grantTicket(ticket: TicketGrant): Promise<GrantResult>;
  getTicket(hash: string): Promise<TicketRecord | undefined>;
  /**
   * Marks an open ticket used at `now`, only if it is not idle at `now` (last active at or
   * after now − idleMs), as one conditional write: a ticket a grant may already have
   * treated as lapsed is never revived. False when nothing was touched.
   */
  touchTicket(hash: string, now: number, idleMs: number): Promise<boolean>;
  /** The covered intervals of file `index` of a ticket (empty when unknown). */
  coverage(hash: string, index: number): Promise<Array<[start: number, end: number]>>;
  /**
   * Adds bytes [start, end) of file `index` as sent. A piece that would take the file past
   * MAX_PIECES separate intervals (intervals.ts) is not recorded. When every file of the ticket is fully
   * covered, the ticket completes and the share's downloads go up by one — exactly once.
   * Bytes recorded for a ticket that already lapsed having sent nothing make it count then.
   * A thumbnail ticket records nothing (`ignored`): it never completes and never counts.
   */
  recordCoverage(hash: string, index: number, start: number, end: number, now: number): Promise<CoverageResult>;

  /**
   * Blobs no live share points at (every share pointing at them is expired or revoked, or
   * none is): their ciphertext may be removed before purgeDead forgets them, which is what
   * frees space on a full disk where the records cannot be written yet. createShare never
   * reuses such a blob.
   */
  deadBlobs(now: number): Promise<string[]>;
  /** Sweeps expired/revoked shares to tombstones and drops old tombstones; returns unreferenced blob ids, forgotten. */
  purgeDead(now: number, tombstoneMs: number): Promise<string[]>;
  /**
   * Open tickets idle since before `before` lapse. One that had sent any ciphertext counts
   * as a download (its share's downloads go up by one: a partial copy gives records away);
   * one that sent nothing just frees its place. Returns how many lapsed.
   */
  lapseTickets(before: number): Promise<number>;
  /**
   * Forgets tickets that ended (done or lapsed) and were last active before `before`, with
   * their coverage; returns how many. A forgotten ticket answers as an unknown one.
   */
  forgetEndedTickets(before: number): Promise<number>;
  /** Unsealed blobs created before `before` (to check that their upload still exists). */
  unsealedBlobsBefore(before: number): Promise<string[]>;
  /** The ids among `ids` that no blob record knows. */
  unknownBlobs(ids: string[]): Promise<string[]>;
  /** Counts for /metrics, read at scrape time. */
  stats(now: number): Promise<ShareStats>;
  /** Resolves when the store accepts a write (a readiness probe); rejects with why not. */
  checkWritable(): Promise<void>;
  /** Closes the store's connections (a database handle or a pool). */
  close(): Promise<void>;
}

export interface ShareStats {
  /** Shares neither revoked, expired nor swept at `now`. */
  liveShares: number;
  /** Ciphertext bytes of every blob record: sealed ones as stored, unfinished ones at their declared size. */
  storedBytes: number;
  /** Download tickets the records still hold, by state (ended ones are forgotten after a while). */
  tickets: Record<TicketState, number>;
}
