/**
 * Messages that cross the receive side's two boundaries: page ↔ receive worker and
 * page → service worker. Each side parses what it receives with these hand-written parsers
 * (no zod: the service worker stays small) and ignores anything that does not parse; a
 * message is never trusted by its type alone. They live here rather than in shared/ because
 * only the browser speaks them.
 */
import { type ErrorCode, isErrorCode } from '../../../../shared/errors.ts';
import { MAX_RECORD_SIZE, MIN_RECORD_SIZE, NONCE_BYTES } from '../../../../shared/limits.ts';

/** One file for the worker to fetch, decrypt and verify. */
export interface WorkerFile {
  shareId: string;
  index: number;
  readerToken: string;
  ticket: string;
  name: string;
  size: number;
  recordSize: number;
  nonceBase: Uint8Array<ArrayBuffer>;
  key: CryptoKey;
  blake3: string | null;
  /** With `blake3` null (share still uploading): opens the final manifest for the hash. */
  metaKey: CryptoKey | null;
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
  | { type: 'delivered'; bytes: number };

/** Path prefix the service worker answers streamed downloads under. */
export const DOWNLOAD_PREFIX = '/__download/';
const DOWNLOAD_ID = /^[A-Za-z0-9_-]{16,64}$/;

type Fields = Record<string, unknown>;
/** Field checks for the hand-written parsers here and in ../preview/preview-messages.ts. */
export const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null;
export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
export const isText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;

function parseWorkerFile(v: unknown): WorkerFile | undefined {
  if (!isObject(v)) return undefined;
  const { shareId, index, readerToken, ticket, name, size, recordSize, nonceBase, key, blake3, metaKey } = v;
  if (!isText(shareId, 64) || !isCount(index) || !isText(readerToken, 200) || !isText(ticket, 200)) return undefined;
  if (!isText(name, 1024) || !isCount(size) || !isCount(recordSize)) return undefined;
  if (recordSize < MIN_RECORD_SIZE || recordSize > MAX_RECORD_SIZE) return undefined;
  if (!(nonceBase instanceof Uint8Array) || nonceBase.length !== NONCE_BYTES || !(key instanceof CryptoKey)) {
    return undefined;
  }
  if (blake3 !== null && !(typeof blake3 === 'string' && /^[0-9a-f]{64}$/.test(blake3))) return undefined;
  if (metaKey !== null && !(metaKey instanceof CryptoKey)) return undefined;
  const nonce = new Uint8Array(nonceBase);
  return { shareId, index, readerToken, ticket, name, size, recordSize, nonceBase: nonce, key, blake3, metaKey };
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
  return undefined;
}

/** The download id in a /__download/<id> path, or undefined. */
export function downloadIdOf(pathname: string): string | undefined {
  if (!pathname.startsWith(DOWNLOAD_PREFIX)) return undefined;
  const id = pathname.slice(DOWNLOAD_PREFIX.length);
  return DOWNLOAD_ID.test(id) ? id : undefined;
}
