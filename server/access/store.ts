/**
 * AccessStore: who may create shares and how much they may store. Upload keys (only their
 * SHA-256 hex is kept), the ledger of bytes reserved by live shares (a share's declared
 * ciphertext, reserved when it is created and released when it dies), the request links
 * made and by which key, and the admin token's hash. Today SQLite (sqlite-store.ts); any
 * other engine passes store.conformance.ts first. Checking every quota and recording a
 * reservation is one method, so racing creators can never pass a limit together.
 * Times are milliseconds since the epoch.
 */

export interface UploadKeyRecord {
  /** Public id (shown to the admin, named in logs); never the key. */
  id: string;
  /** SHA-256 hex of the key. */
  hash: string;
  label: string;
  /** Ciphertext bytes the key's live shares may hold together; null: no limit. */
  maxStoredBytes: number | null;
  /** Ciphertext bytes the key may reserve in any 24 hours; null: no limit. */
  maxDailyBytes: number | null;
  expiresAt: number | null;
  createdAt: number;
  revokedAt: number | null;
}

export type NewUploadKey = Omit<UploadKeyRecord, 'revokedAt'>;

/** Whose quota a reservation counts against: an upload key, or a client network in `open` mode. */
export type Holder = { keyId: string } | { network: string };

export type ReservationKind = 'share' | 'request-upload';

export interface Reservation {
  /** The share holding the bytes (one reservation per share). */
  shareId: string;
  kind: ReservationKind;
  /** The request link a request upload went into. */
  requestId: string | null;
  keyId: string | null;
  network: string | null;
  /** Declared ciphertext bytes of the share's new uploads. */
  bytes: number;
  files: number;
  createdAt: number;
  /** The share's expiry as last seen (the owner may extend it). */
  expiresAt: number;
  releasedAt: number | null;
}

export type NewReservation = Omit<Reservation, 'keyId' | 'network' | 'releasedAt'> & { holder: Holder | null };

export interface ReserveLimits {
  /** Total of all live reservations; null: no cap. */
  storageCap: number | null;
  /** The holder's live reservations together (an upload key's bytes stored). */
  stored: number | null;
  /** The holder's reservations made within `windowMs` before now, live or released. */
  daily: number | null;
  windowMs: number;
}

/**
 * `reserved`; `exists` when the share already has a reservation (a repeated create: nothing
 * changes); otherwise which limit refused it. `retryAt` says when enough of the holder's
 * window will have passed for this reservation to fit (null when waiting cannot help).
 */
export type ReserveResult =
  | { outcome: 'reserved' | 'exists' }
  | { outcome: 'storage-full'; used: number }
  | { outcome: 'stored'; used: number }
  | { outcome: 'daily'; used: number; retryAt: number | null };

export interface KeyUsage {
  storedBytes: number;
  /** Bytes reserved within the window. */
  windowBytes: number;
  liveShares: number;
}

export interface RequestLinkRecord {
  id: string;
  keyId: string | null;
  createdAt: number;
}

export interface AccessStore {
  createKey(key: NewUploadKey): Promise<void>;
  /** The key whose hash this is, revoked or expired ones included (the caller decides). */
  keyByHash(hash: string): Promise<UploadKeyRecord | undefined>;
  getKey(id: string): Promise<UploadKeyRecord | undefined>;
  /** Every key, newest first. */
  listKeys(): Promise<UploadKeyRecord[]>;
  /** Marks a key revoked (its first revocation time stays); false when unknown. */
  revokeKey(id: string, now: number): Promise<boolean>;
  /** Usage of one key at `now`, counting the window before it. */
  keyUsage(keyId: string, now: number, windowMs: number): Promise<KeyUsage>;

  /** In one transaction: checks every limit against the ledger at `now`, then records. */
  reserve(reservation: NewReservation, limits: ReserveLimits, now: number): Promise<ReserveResult>;
  /** Forgets a reservation entirely (its share was never created): it counts nowhere. */
  unreserve(shareId: string): Promise<void>;
  /** Releases a live reservation (its share died); it still counts in its holder's window. */
  release(shareId: string, now: number): Promise<void>;
  /** Records a live share's current expiry. */
  setExpiry(shareId: string, expiresAt: number): Promise<void>;
  /** Live (unreleased) reservations, newest first. */
  liveReservations(): Promise<Reservation[]>;
  /** Bytes of all live reservations. */
  storedBytes(): Promise<number>;
  /** Drops released reservations released before `before` (out of every window). */
  pruneReleased(before: number): Promise<number>;

  addRequestLink(link: RequestLinkRecord): Promise<void>;
  getRequestLink(id: string): Promise<RequestLinkRecord | undefined>;
  listRequestLinks(): Promise<RequestLinkRecord[]>;
  forgetRequestLink(id: string): Promise<void>;

  /** SHA-256 hex of the admin token made at first start, if one was. */
  adminHash(): Promise<string | null>;
  /** Stores the admin token's hash unless one is stored; false when one already was. */
  setAdminHash(hash: string): Promise<boolean>;
  /** Closes the store's connections (a database handle or a pool). */
  close(): Promise<void>;
}

/**
 * When the oldest reservations in the window will have aged out far enough for `bytes` more
 * to fit under `limit` (rows oldest first); null when `bytes` alone is over the limit.
 */
export function retryAt(
  rows: ReadonlyArray<{ bytes: number; createdAt: number }>,
  used: number,
  bytes: number,
  limit: number,
  windowMs: number,
): number | null {
  if (bytes > limit) return null;
  let left = used;
  for (const row of rows) {
    left -= row.bytes;
    if (left + bytes <= limit) return row.createdAt + windowMs;
  }
  return null;
}
