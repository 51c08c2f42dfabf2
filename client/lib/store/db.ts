/**
 * Ferry's IndexedDB: what the sender's browser must remember between visits.
 *
 * - `shares`: every share this browser created. While `state` is `uploading` it is a
 *   pending upload (resumable after a reload); afterwards it is history. Secrets stay here
 *   only as long as the share lives: revoked and expired records are deleted.
 * - `dedup`: blake3 of a sealed file → the handles that let a new share reuse its blob.
 * - `received` (version 2): files this browser received, from a link or a nearby device,
 *   verified or not. Nothing secret: no key, no link fragment, no token.
 *
 * Versions only ever add: `MIGRATIONS[n]` takes a database from version n to n + 1, and
 * `upgrade` runs every step from the stored version up (IndexedDB runs it inside the
 * versionchange transaction, so a failed step leaves the old version untouched).
 */
import { type DBSchema, type IDBPDatabase, type IDBPTransaction, openDB, type StoreNames } from 'idb';

export const DB_NAME = 'ferry';

/** A prefix digest of a file's plaintext: BLAKE3 of bytes [0, offset). */
export interface Checkpoint {
  offset: number;
  digest: string;
}

export interface SentFile {
  name: string;
  size: number;
  type: string;
  lastModified: number;
  /** base64url 12-byte nonce base. */
  nonce: string;
  recordSize: number;
  /** base64url content key when the records were sealed under another share's key (reuse). */
  key?: string | undefined;
  blake3: string | null;
  /**
   * The largest prefix digest stored before any byte past it was encrypted: a file chosen
   * again must match it (or `blake3`) before its upload may continue.
   */
  checkpoint: Checkpoint | null;
  /** tus upload URL once created. */
  uploadUrl: string | null;
  reused: boolean;
  /** The upload finished (the server sealed it). */
  uploaded: boolean;
  /** Where the browser gave one (Chromium): reopen the file after a reload without asking. */
  handle?: FileSystemFileHandle | undefined;
}

export type ShareRecordState = 'uploading' | 'ready' | 'revoked';

export interface ShareRecord {
  id: string;
  ownerToken: string;
  uploadToken: string;
  /** base64url share secret (derives the keys; needed to resume and to rewrite the manifest). */
  secret: string;
  link: string;
  createdAt: number;
  expiresAt: number;
  maxDownloads: number | null;
  hasPassword: boolean;
  state: ShareRecordState;
  /** Sealed manifest last sent, so a resumed share can be completed without the password. */
  files: SentFile[];
}

export interface DedupEntry {
  blake3: string;
  /** size, name and lastModified: a cheap first match before hashing. */
  fingerprint: string;
  blobId: string;
  blobToken: string;
  /** base64url raw content key the blob's records are sealed with. */
  key: string;
  nonce: string;
  recordSize: number;
  size: number;
  expiresAt: number;
  /** The share that keeps the blob alive. */
  shareId: string;
}

/** Where a received file came from: a share link (never its key) or a nearby device. */
export type ReceivedSource = { kind: 'link'; origin: string; shareId: string } | { kind: 'nearby'; device: string };

export interface ReceivedRecord {
  /** `link:<shareId>:<index>` or `nearby:<transfer>:<index>`: receiving a file again replaces its entry. */
  id: string;
  name: string;
  size: number;
  type: string;
  from: ReceivedSource;
  /** When it verified or failed (ms since the epoch). */
  at: number;
  verified: boolean;
  /** Why it failed, for people; null when verified. */
  failure: string | null;
}

export interface FerrySchema extends DBSchema {
  shares: { key: string; value: ShareRecord; indexes: { state: ShareRecordState } };
  dedup: { key: string; value: DedupEntry; indexes: { fingerprint: string; shareId: string } };
  received: { key: string; value: ReceivedRecord; indexes: { at: number } };
}

export type FerryDB = IDBPDatabase<FerrySchema>;
type UpgradeTransaction = IDBPTransaction<FerrySchema, StoreNames<FerrySchema>[], 'versionchange'>;
type Migration = (database: FerryDB, transaction: UpgradeTransaction) => void;

/** One step per version: index n upgrades version n to n + 1. Never edit a released step; add one. */
export const MIGRATIONS: readonly Migration[] = [
  // 0 → 1: sent shares (pending and history) and the dedup index.
  (database) => {
    const shares = database.createObjectStore('shares', { keyPath: 'id' });
    shares.createIndex('state', 'state');
    const dedup = database.createObjectStore('dedup', { keyPath: 'blake3' });
    dedup.createIndex('fingerprint', 'fingerprint');
    dedup.createIndex('shareId', 'shareId');
  },
  // 1 → 2: received files.
  (database) => {
    const received = database.createObjectStore('received', { keyPath: 'id' });
    received.createIndex('at', 'at');
  },
];

export const DB_VERSION = MIGRATIONS.length;

/** Runs the steps from `oldVersion` up to DB_VERSION, in order. */
export function migrate(database: FerryDB, oldVersion: number, transaction: UpgradeTransaction): void {
  for (let version = oldVersion; version < DB_VERSION; version++) MIGRATIONS[version]?.(database, transaction);
}

let opened: Promise<FerryDB> | undefined;

/** The one connection of this page. */
export function db(): Promise<FerryDB> {
  opened ??= openDB<FerrySchema>(DB_NAME, DB_VERSION, {
    upgrade(database, oldVersion, _newVersion, transaction) {
      migrate(database, oldVersion, transaction);
    },
    blocking() {
      // A newer tab wants to upgrade: let it, and reopen on next use.
      void opened?.then((d) => d.close());
      opened = undefined;
    },
  });
  return opened;
}
