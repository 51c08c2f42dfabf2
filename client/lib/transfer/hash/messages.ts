/**
 * Messages between the Hasher and its worker. Both directions are discriminated unions,
 * and each side parses what it receives instead of trusting a cast: a worker boundary is
 * a boundary like any other.
 */
import { type ErrorCode, isErrorCode } from '../../../../shared/errors.ts';

/** Main thread → worker. */
export type HashRequest = {
  type: 'hash';
  job: number;
  file: Blob;
  /** Emit a prefix digest every this many plaintext bytes (0 = only the full digest). */
  checkpointEvery: number;
  /** Stop after this many bytes (the file's size for a full hash). */
  end: number;
};

/** Worker → main thread. */
export type HashEvent =
  | { type: 'progress'; job: number; offset: number }
  | { type: 'checkpoint'; job: number; offset: number; digest: string }
  | { type: 'done'; job: number; offset: number; digest: string }
  | { type: 'error'; job: number; code: ErrorCode; message: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isHex = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/** Parses a request in the worker; undefined when it is not one. */
export function parseHashRequest(data: unknown): HashRequest | undefined {
  if (!isRecord(data) || data.type !== 'hash') return undefined;
  const { job, file, checkpointEvery, end } = data;
  if (!isCount(job) || !(file instanceof Blob) || !isCount(checkpointEvery) || !isCount(end)) return undefined;
  return { type: 'hash', job, file, checkpointEvery, end };
}

/** Parses an event on the main thread; undefined when it is not one. */
export function parseHashEvent(data: unknown): HashEvent | undefined {
  if (!isRecord(data) || !isCount(data.job)) return undefined;
  const job = data.job;
  switch (data.type) {
    case 'progress':
      return isCount(data.offset) ? { type: 'progress', job, offset: data.offset } : undefined;
    case 'checkpoint':
    case 'done':
      return isCount(data.offset) && isHex(data.digest)
        ? { type: data.type, job, offset: data.offset, digest: data.digest }
        : undefined;
    case 'error':
      return isErrorCode(data.code) && typeof data.message === 'string'
        ? { type: 'error', job, code: data.code, message: data.message }
        : undefined;
    default:
      return undefined;
  }
}
