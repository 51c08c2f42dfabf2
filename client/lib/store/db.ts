/**
 * Ferry's IndexedDB: what the sender's browser must remember between visits.
 *
 * - `shares`: every share this browser created. While `state` is `uploading` it is a
 *   pending upload (resumable after a reload); afterwards it is history. Secrets stay here
 *   only as long as the share lives: revoked and expired records are deleted.
 * - `dedup`: blake3 of a sealed file → the handles that let a new share reuse its blob.
 *
 * Versions only ever add: `upgrade` runs every step from the stored version up.
 */
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';

export const DB_NAME = 'ferry';
export const DB_VERSION = 1;

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

export interface FerrySchema extends DBSchema {
  shares: { key: string; value: ShareRecord; indexes: { state: ShareRecordState } };
  dedup: { key: string; value: DedupEntry; indexes: { fingerprint: string; shareId: string } };
}

export type FerryDB = IDBPDatabase<FerrySchema>;

let opened: Promise<FerryDB> | undefined;

/** The one connection of this page. */
export function db(): Promise<FerryDB> {
  opened ??= openDB<FerrySchema>(DB_NAME, DB_VERSION, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        const shares = database.createObjectStore('shares', { keyPath: 'id' });
        shares.createIndex('state', 'state');
        const dedup = database.createObjectStore('dedup', { keyPath: 'blake3' });
        dedup.createIndex('fingerprint', 'fingerprint');
        dedup.createIndex('shareId', 'shareId');
      }
    },
    blocking() {
      // A newer tab wants to upgrade: let it, and reopen on next use.
      void opened?.then((d) => d.close());
      opened = undefined;
    },
  });
  return opened;
}
