/**
 * Messages that cross the receive side's two boundaries: page ↔ receive worker and
 * page → service worker. Each side parses what it receives with these hand-written parsers
 * (no zod: the service worker stays small) and ignores anything that does not parse; a
 * message is never trusted by its type alone. They live here rather than in shared/ because
 * only the browser speaks them.
 */
import { type ErrorCode, isErrorCode } from '../../../../shared/errors.ts';
import { KEY_BYTES, MAX_FILES, MAX_RECORD_SIZE, MIN_RECORD_SIZE, NONCE_BYTES } from '../../../../shared/limits.ts';
import type { OpfsFolder } from '../../p2p/opfs-dir.ts';

/** Where one file's ciphertext is and how its records are laid out. */
export interface FileFields {
  shareId: string;
  index: number;
  readerToken: string;
  ticket: string;
  name: string;
  size: number;
  recordSize: number;
  nonceBase: Uint8Array<ArrayBuffer>;
  /** The manifest's hex BLAKE3 of the plaintext; null while the sender still uploads. */
  blake3: string | null;
}

/** One file for the worker to fetch, decrypt and verify. */
export interface WorkerFile extends FileFields {
  key: CryptoKey;
  /** With `blake3` null (share still uploading): opens the final manifest for the hash. */
  metaKey: CryptoKey | null;
}

/** One file for the service worker to fetch, decrypt, verify and serve itself. */
export interface SwFetchFile extends FileFields {
  /** The file's raw AES-256-GCM key (manifest.ts `fileKeyBytes`). */
  keyBytes: Uint8Array<ArrayBuffer>;
  /** The manifest's modification time (ms), for its ZIP entry; null when it has none. */
  modified: number | null;
}

/** Cancelling needs no message: the page cancels its end of the transferred stream. */
export type ReceiveRequest = { type: 'open'; job: number; file: WorkerFile };

export type ReceiveEvent =
  | { type: 'stream'; job: number; stream: ReadableStream<Uint8Array> }
  | { type: 'verified'; job: number }
  | { type: 'failed'; job: number; code: ErrorCode; message: string };

/** Page → service worker: serve `stream` as an attachment at /__download/<id>. */
export interface SwDownload {
  type: 'download';
  id: string;
  name: string;
  /** Bytes, for Content-Length; null when unknown. */
  size: number | null;
  stream: ReadableStream<Uint8Array>;
}

/**
 * Page → service worker, where the page cannot transfer a stream nor stage the file in OPFS
 * (Safari in a private window): fetch, decrypt and verify `file` yourself and serve it at
 * /__download/<id>. Replies as for `download`, plus `started`, `progress`, `verified` and
 * `failed`, each naming the file as position 0; for a file with `blake3` null the worker
 * asks the page for the final hash (`need-hash`) once every byte of it has passed, and the
 * page answers `SwHash`. (No archive: a ZIP cut off while the browser saves it would stay
 * under its name in WebKit, so "Download all" is staged in OPFS or refused instead.)
 */
export interface SwFetch {
  type: 'download-fetch';
  id: string;
  file: SwFetchFile;
}

/** One file that sits whole in the origin private file system, and what it is saved as. */
export interface StoredFile {
  /** Its name in the folder (opfs-dir.ts `receivedPath`, staging.ts): a random id and an index. */
  path: string;
  /** The name it is saved as, or its ZIP entry's path. */
  name: string;
  size: number;
  /** The manifest's hex BLAKE3 of the plaintext, checked again as the file is read. */
  blake3: string;
  /** The manifest's modification time (ms), for its ZIP entry; null when it has none. */
  modified: number | null;
}

/**
 * Page → service worker, where the page cannot transfer a stream (Safari): serve files that
 * sit whole in the origin private file system, checking each BLAKE3 as it goes: one as
 * itself (`archive` null), or every file as one ZIP named `archive` ("Download all" of
 * files staged first, staging.ts). `folder` 'received' holds files from a nearby device
 * (p2p/opfs-dir.ts `P2P_OPFS_DIR`), 'staged' a link's files staged there first. Replies as
 * for `download-fetch`, each naming the file by its position in `files`.
 */
export interface SwStored {
  type: 'download-stored';
  id: string;
  archive: string | null;
  folder: OpfsFolder;
  files: StoredFile[];
}

/**
 * Page → stage worker (stage.worker.ts): fetch, decrypt and verify `file` into the staged
 * OPFS file `path`, continuing from the whole records already there. `stop`: give up now
 * (the staged prefix stays for a later try).
 */
export type StageRequest = { type: 'stage'; file: WorkerFile; path: string } | { type: 'stop' };

/**
 * Stage worker → page: `progress` with the plaintext bytes staged so far (about every
 * 250 ms; on a later try it starts at what an earlier one left); `staged` once the whole file is on disk,
 * flushed and its BLAKE3 (`blake3`) matched; `failed` with the file's code otherwise.
 */
export type StageEvent =
  | { type: 'progress'; bytes: number }
  | { type: 'staged'; blake3: string }
  | { type: 'failed'; code: ErrorCode; message: string };

/** Page → service worker on the download's port: file `file`'s final hash, or why there is none. */
export type SwHash =
  | { type: 'hash'; file: number; blake3: string }
  | { type: 'hash-failed'; file: number; code: ErrorCode; message: string };

/**
 * Page → service worker, about once a second while a download streams: a message event
 * renews a service worker's lifetime; a response body it streams does not in Firefox
 * (stopped after `dom.serviceWorkers.idle_timeout`, 30 s), nor do messages on a MessagePort.
 */
export interface SwDownloadAlive {
  type: 'download-alive';
  id: string;
}

/**
 * Service worker → page, through the MessagePort sent with the download: `delivered` once
 * the browser has read the last of exactly `bytes` bytes.
 */
export type SwReply =
  | { type: 'ready'; url: string }
  | { type: 'rejected'; message: string }
  | { type: 'delivered'; bytes: number }
  // The rest only for `download-fetch`; `file` is a position in its `files`.
  | { type: 'started'; file: number }
  | { type: 'progress'; file: number; bytes: number }
  | { type: 'verified'; file: number }
  | { type: 'need-hash'; file: number }
  | { type: 'failed'; file: number; code: ErrorCode; message: string };

/** Path prefix the service worker answers streamed downloads under. */
export const DOWNLOAD_PREFIX = '/__download/';
const DOWNLOAD_ID = /^[A-Za-z0-9_-]{16,64}$/;
/** A file's name in OPFS (opfs-dir.ts `receivedPath`, `stagedPath`): a random id and an index. */
const STORED_PATH = /^[A-Za-z0-9_-]{22}-\d{1,4}$/;
const OPFS_FOLDERS: readonly OpfsFolder[] = ['received', 'staged'];

type Fields = Record<string, unknown>;
/** Field checks for the hand-written parsers here and in ../preview/preview-messages.ts. */
export const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null;
export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
export const isText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;

const isBlake3 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

function parseFileFields(v: Fields): FileFields | undefined {
  const { shareId, index, readerToken, ticket, name, size, recordSize, nonceBase, blake3 } = v;
  if (!isText(shareId, 64) || !isCount(index) || !isText(readerToken, 200) || !isText(ticket, 200)) return undefined;
  if (!isText(name, 1024) || !isCount(size) || !isCount(recordSize)) return undefined;
  if (recordSize < MIN_RECORD_SIZE || recordSize > MAX_RECORD_SIZE) return undefined;
  if (!(nonceBase instanceof Uint8Array) || nonceBase.length !== NONCE_BYTES) return undefined;
  if (blake3 !== null && !isBlake3(blake3)) return undefined;
  const nonce = new Uint8Array(nonceBase);
  return { shareId, index, readerToken, ticket, name, size, recordSize, nonceBase: nonce, blake3 };
}

function parseWorkerFile(v: unknown): WorkerFile | undefined {
  if (!isObject(v)) return undefined;
  const fields = parseFileFields(v);
  const { key, metaKey } = v;
  if (!fields || !(key instanceof CryptoKey)) return undefined;
  if (metaKey !== null && !(metaKey instanceof CryptoKey)) return undefined;
  return { ...fields, key, metaKey };
}

function parseSwFetchFile(v: unknown): SwFetchFile | undefined {
  if (!isObject(v)) return undefined;
  const fields = parseFileFields(v);
  const { keyBytes, modified } = v;
  if (!fields || !(keyBytes instanceof Uint8Array) || keyBytes.length !== KEY_BYTES) return undefined;
  if (modified !== null && !isCount(modified)) return undefined;
  return { ...fields, keyBytes: new Uint8Array(keyBytes), modified };
}

/** Parses a page → worker message. */
export function parseReceiveRequest(data: unknown): ReceiveRequest | undefined {
  if (!isObject(data) || !isCount(data.job)) return undefined;
  if (data.type !== 'open') return undefined;
  const file = parseWorkerFile(data.file);
  return file && { type: 'open', job: data.job, file };
}

/** Parses a worker → page message. */
export function parseReceiveEvent(data: unknown): ReceiveEvent | undefined {
  if (!isObject(data) || !isCount(data.job)) return undefined;
  const { job } = data;
  switch (data.type) {
    case 'stream':
      return data.stream instanceof ReadableStream ? { type: 'stream', job, stream: data.stream } : undefined;
    case 'verified':
      return { type: 'verified', job };
    case 'failed':
      return isErrorCode(data.code) && typeof data.message === 'string'
        ? { type: 'failed', job, code: data.code, message: data.message.slice(0, 2000) }
        : undefined;
    default:
      return undefined;
  }
}

/** Parses a page → service worker message. */
export function parseSwDownload(data: unknown): SwDownload | undefined {
  if (!isObject(data) || data.type !== 'download') return undefined;
  const { id, name, size, stream } = data;
  if (typeof id !== 'string' || !DOWNLOAD_ID.test(id) || !isText(name, 1024)) return undefined;
  if (size !== null && !isCount(size)) return undefined;
  if (!(stream instanceof ReadableStream)) return undefined;
  return { type: 'download', id, name, size, stream };
}

/** Parses a page → service worker request to fetch a download itself. */
export function parseSwFetch(data: unknown): SwFetch | undefined {
  if (!isObject(data) || data.type !== 'download-fetch') return undefined;
  const { id } = data;
  if (typeof id !== 'string' || !DOWNLOAD_ID.test(id)) return undefined;
  const file = parseSwFetchFile(data.file);
  return file && { type: 'download-fetch', id, file };
}

function parseStoredFile(v: unknown): StoredFile | undefined {
  if (!isObject(v)) return undefined;
  const { path, name, size, blake3, modified } = v;
  if (typeof path !== 'string' || !STORED_PATH.test(path) || !isText(name, 1024) || !isCount(size)) return undefined;
  if (!isBlake3(blake3) || (modified !== null && !isCount(modified))) return undefined;
  return { path, name, size, blake3, modified };
}

/** Parses a page → service worker request to serve files stored in OPFS. */
export function parseSwStored(data: unknown): SwStored | undefined {
  if (!isObject(data) || data.type !== 'download-stored') return undefined;
  const { id, archive, folder } = data;
  if (typeof id !== 'string' || !DOWNLOAD_ID.test(id)) return undefined;
  if (archive !== null && !isText(archive, 1024)) return undefined;
  if (!OPFS_FOLDERS.includes(folder as OpfsFolder)) return undefined;
  if (!Array.isArray(data.files) || data.files.length === 0 || data.files.length > MAX_FILES) return undefined;
  // One file is saved as itself; several only as an archive.
  if (archive === null && data.files.length !== 1) return undefined;
  const files: StoredFile[] = [];
  for (const v of data.files) {
    const file = parseStoredFile(v);
    if (!file) return undefined;
    files.push(file);
  }
  return { type: 'download-stored', id, archive, folder: folder as OpfsFolder, files };
}

/** Parses a page → stage worker message. */
export function parseStageRequest(data: unknown): StageRequest | undefined {
  if (!isObject(data)) return undefined;
  if (data.type === 'stop') return { type: 'stop' };
  if (data.type !== 'stage' || typeof data.path !== 'string' || !STORED_PATH.test(data.path)) return undefined;
  const file = parseWorkerFile(data.file);
  return file && { type: 'stage', file, path: data.path };
}

/** Parses a stage worker → page message. */
export function parseStageEvent(data: unknown): StageEvent | undefined {
  if (!isObject(data)) return undefined;
  switch (data.type) {
    case 'progress':
      return isCount(data.bytes) ? { type: 'progress', bytes: data.bytes } : undefined;
    case 'staged':
      return isBlake3(data.blake3) ? { type: 'staged', blake3: data.blake3 } : undefined;
    case 'failed':
      return isErrorCode(data.code) && typeof data.message === 'string'
        ? { type: 'failed', code: data.code, message: data.message.slice(0, 2000) }
        : undefined;
    default:
      return undefined;
  }
}

/** Parses the page's answer to `need-hash`. */
export function parseSwHash(data: unknown): SwHash | undefined {
  if (!isObject(data) || !isCount(data.file)) return undefined;
  const { file } = data;
  if (data.type === 'hash') return isBlake3(data.blake3) ? { type: 'hash', file, blake3: data.blake3 } : undefined;
  if (data.type === 'hash-failed' && isErrorCode(data.code) && typeof data.message === 'string') {
    return { type: 'hash-failed', file, code: data.code, message: data.message.slice(0, 2000) };
  }
  return undefined;
}

/** Parses a page → service worker keep-alive. */
export function parseSwDownloadAlive(data: unknown): SwDownloadAlive | undefined {
  if (!isObject(data) || data.type !== 'download-alive') return undefined;
  return typeof data.id === 'string' && DOWNLOAD_ID.test(data.id) ? { type: 'download-alive', id: data.id } : undefined;
}

/** Parses a service worker → page reply. */
export function parseSwReply(data: unknown): SwReply | undefined {
  if (!isObject(data)) return undefined;
  if (data.type === 'ready' && typeof data.url === 'string' && data.url.startsWith(DOWNLOAD_PREFIX)) {
    return { type: 'ready', url: data.url };
  }
  if (data.type === 'rejected' && typeof data.message === 'string') return { type: 'rejected', message: data.message };
  if (data.type === 'delivered' && isCount(data.bytes)) return { type: 'delivered', bytes: data.bytes };
  const { file } = data;
  if (!isCount(file)) return undefined;
  if (data.type === 'started' || data.type === 'verified' || data.type === 'need-hash')
    return { type: data.type, file };
  if (data.type === 'progress' && isCount(data.bytes)) return { type: 'progress', file, bytes: data.bytes };
  if (data.type === 'failed' && isErrorCode(data.code) && typeof data.message === 'string') {
    return { type: 'failed', file, code: data.code, message: data.message.slice(0, 2000) };
  }
  return undefined;
}

/** The download id in a /__download/<id> path, or undefined. */
export function downloadIdOf(pathname: string): string | undefined {
  if (!pathname.startsWith(DOWNLOAD_PREFIX)) return undefined;
  const id = pathname.slice(DOWNLOAD_PREFIX.length);
  return DOWNLOAD_ID.test(id) ? id : undefined;
}
