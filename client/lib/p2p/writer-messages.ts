/**
 * Messages between the page and the OPFS writer worker (opfs-writer.worker.ts: the engine's
 * VerifyingSink over OPFS), a discriminated union each way, checked where they enter with
 * the parsers below.
 */
import { MAX_FRAME_RECORDS } from '../../../shared/p2p/frames.ts';
import type { FileCipher } from '../../../shared/records.ts';

export type WriterRequest =
  /** Starts a file: its OPFS name, the cipher that opens its records, its whole-file BLAKE3 (hex). */
  | { type: 'open'; file: number; path: string; cipher: FileCipher; blake3: string }
  /**
   * Sealed records first, first + 1, … of `file`, in order: back to back in `bytes` from
   * offset `at`, `lengths[i]` bytes each (a binary frame's buffer, transferred whole).
   */
  | { type: 'records'; file: number; first: number; bytes: ArrayBuffer; at: number; lengths: number[] }
  /** Answered with `synced` once every request posted before it is handled. */
  | { type: 'sync'; id: number }
  /**
   * Ends the transfer once every request posted before it is handled, closing every handle;
   * with `discard`, deletes each file not verified whole. Answered with `synced`.
   */
  | { type: 'close'; id: number; discard: boolean };

export type WriterEvent =
  /** Records [0, verified) of `file` are verified and written. */
  | { type: 'verified'; file: number; verified: number }
  /** Every record of `file` is written, flushed, its handle closed, and its BLAKE3 matched. */
  | { type: 'done'; file: number }
  /** The first failure: nothing more is written. */
  | { type: 'failed'; code: string; message: string }
  /** Everything posted before the `sync` or `close` of this id is handled. */
  | { type: 'synced'; id: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The worker's check of what the page posts. */
export function parseWriterRequest(data: unknown): WriterRequest | null {
  if (!isObject(data)) return null;
  switch (data.type) {
    case 'open': {
      const c = data.cipher;
      if (!isIndex(data.file) || typeof data.path !== 'string' || !isObject(c)) return null;
      if (typeof data.blake3 !== 'string' || !/^[0-9a-f]{64}$/.test(data.blake3)) return null;
      if (!(c.key instanceof CryptoKey) || !(c.nonceBase instanceof Uint8Array)) return null;
      if (!isIndex(c.size) || !isIndex(c.recordSize) || typeof c.name !== 'string') return null;
      return {
        type: 'open',
        file: data.file,
        path: data.path,
        blake3: data.blake3,
        cipher: { key: c.key, nonceBase: c.nonceBase, size: c.size, recordSize: c.recordSize, name: c.name },
      };
    }
    case 'records': {
      const { file, first, bytes, at, lengths } = data;
      if (!isIndex(file) || !isIndex(first) || !isIndex(at) || !(bytes instanceof ArrayBuffer)) return null;
      if (!Array.isArray(lengths) || lengths.length < 1 || lengths.length > MAX_FRAME_RECORDS) return null;
      if (!lengths.every((length) => isIndex(length) && length > 0)) return null;
      const end = lengths.reduce((sum: number, length: number) => sum + length, at);
      if (end > bytes.byteLength) return null;
      return { type: 'records', file, first, bytes, at, lengths: [...lengths] as number[] };
    }
    case 'sync':
      return isIndex(data.id) ? { type: 'sync', id: data.id } : null;
    case 'close':
      return isIndex(data.id) && typeof data.discard === 'boolean'
        ? { type: 'close', id: data.id, discard: data.discard }
        : null;
    default:
      return null;
  }
}

/** The page's check of what the worker posts. */
export function parseWriterEvent(data: unknown): WriterEvent | null {
  if (!isObject(data)) return null;
  if (data.type === 'synced') return isIndex(data.id) ? { type: 'synced', id: data.id } : null;
  if (data.type === 'failed') {
    return typeof data.code === 'string' && typeof data.message === 'string'
      ? { type: 'failed', code: data.code, message: data.message }
      : null;
  }
  if (!isIndex(data.file)) return null;
  switch (data.type) {
    case 'verified':
      return isIndex(data.verified) ? { type: 'verified', file: data.file, verified: data.verified } : null;
    case 'done':
      return { type: 'done', file: data.file };
    default:
      return null;
  }
}
