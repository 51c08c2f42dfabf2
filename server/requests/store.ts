/**
 * RequestStore: the records behind request links — a request's limits and the uploads
 * senders made into it (each upload is an ordinary share, see server/shares). Today SQLite
 * (sqlite-store.ts). Checking a request's limits and recording an upload is one method, so
 * racing senders can never pass the limits together. Times are ms since the epoch; the
 * owner token appears only as its SHA-256 hex.
 */

export interface RequestRecord {
  id: string;
  ownerHash: string;
  createdAt: number;
  expiresAt: number;
  /** Ciphertext bytes all uploads together may declare. */
  maxBytes: number;
  maxFiles: number;
  /** When the requester closed it, else null. */
  closedAt: number | null;
  usedBytes: number;
  usedFiles: number;
}

export interface UploadRecord {
  shareId: string;
  /** The sender's ephemeral public key (base64url), which the requester needs to derive the secret. */
  senderKey: string;
  bytes: number;
  files: number;
  createdAt: number;
}

export type NewRequest = Omit<RequestRecord, 'closedAt' | 'usedBytes' | 'usedFiles'>;

/** `added`, or why not: the limits are checked against the uploads already recorded. */
export type AddUploadResult = 'added' | 'missing' | 'expired' | 'closed' | 'too-many-bytes' | 'too-many-files';

export interface RequestStore {
  createRequest(request: NewRequest): Promise<void>;
  getRequest(id: string): Promise<RequestRecord | undefined>;
  /** Uploads in the order they were added. */
  listUploads(requestId: string): Promise<UploadRecord[]>;
  /** In one transaction: checks state and limits at `now`, then records the upload. */
  addUpload(requestId: string, upload: UploadRecord, now: number): Promise<AddUploadResult>;
  /** Forgets an upload whose share could not be created (frees its bytes and files). */
  removeUpload(requestId: string, shareId: string): Promise<void>;
  /** Closes an open request (no more uploads); a closed one keeps its first closing time. */
  closeRequest(id: string, now: number): Promise<void>;
  /** Deletes requests (and their upload records) that expired or were closed before `before`; returns how many. */
  purgeBefore(before: number): Promise<number>;
  /** Closes the store's connections (a database handle or a pool). */
  close(): Promise<void>;
}
