/**
 * Messages between the Encryptor and its worker, parsed on entry on both sides.
 * A file is opened once (File and CryptoKey are structured-cloneable), then any number of
 * ciphertext ranges are asked for. For each range the worker reads the plaintext, says
 * `ready` (after reporting any hash checkpoints that read reached), and seals it only on
 * `go`: the page first stores those checkpoints.
 *
 * Ciphertext comes back as the sealed records' own buffers, transferred (not copied), and
 * the page makes the Blob tus sends. A Blob built in the worker cost the same copy but left
 * the page with only a handle: a Blob's bytes live in the browser process, invisible to
 * V8, so the spent chunks stayed until the page's next major GC, which a page with a
 * 12 MiB heap seldom needs (a 4 GiB send peaked at 2.5 GiB for the whole browser). Transferred
 * buffers count as the page's external memory, so its GC keeps pace with the ciphertext
 * and takes the spent Blobs along. tus still gets a Blob, not the bytes: under DevTools
 * an ArrayBuffer request body crawls at 5 MB/s (bench/README.md).
 */
import { type ErrorCode, isErrorCode } from '../../../../shared/errors.ts';

export type EncryptRequest =
  | {
      type: 'open';
      fileId: number;
      file: Blob;
      key: CryptoKey;
      nonceBase: Uint8Array;
      recordSize: number;
      name: string;
      /** > 0: hash the plaintext in order and report a prefix digest every this many bytes. */
      checkpointEvery: number;
    }
  | { type: 'range'; job: number; fileId: number; start: number; end: number }
  | { type: 'go'; job: number; fileId: number }
  | { type: 'cancel'; job: number; fileId: number }
  | { type: 'close'; fileId: number };

export type EncryptEvent =
  | { type: 'ready'; job: number; plainEnd: number }
  | { type: 'range'; job: number; parts: Uint8Array<ArrayBuffer>[] }
  | { type: 'error'; job: number; code: ErrorCode; message: string }
  | { type: 'checkpoint'; fileId: number; offset: number; digest: string }
  | { type: 'hashed'; fileId: number; digest: string }
  | { type: 'unhashed'; fileId: number };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBytes = (v: unknown): v is Uint8Array<ArrayBuffer> =>
  v instanceof Uint8Array && v.buffer instanceof ArrayBuffer;
const isHex = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

export function parseEncryptRequest(data: unknown): EncryptRequest | undefined {
  if (!isRecord(data) || !isCount(data.fileId)) return undefined;
  const fileId = data.fileId;
  switch (data.type) {
    case 'open': {
      const { file, key, nonceBase, recordSize, name, checkpointEvery } = data;
      if (!(file instanceof Blob) || !(key instanceof CryptoKey) || !(nonceBase instanceof Uint8Array))
        return undefined;
      if (nonceBase.length !== 12 || !isCount(recordSize) || recordSize === 0 || typeof name !== 'string') {
        return undefined;
      }
      if (!isCount(checkpointEvery)) return undefined;
      return { type: 'open', fileId, file, key, nonceBase, recordSize, name, checkpointEvery };
    }
    case 'range':
      return isCount(data.job) && isCount(data.start) && isCount(data.end) && data.start <= data.end
        ? { type: 'range', job: data.job, fileId, start: data.start, end: data.end }
        : undefined;
    case 'go':
    case 'cancel':
      return isCount(data.job) ? { type: data.type, job: data.job, fileId } : undefined;
    case 'close':
      return { type: 'close', fileId };
    default:
      return undefined;
  }
}

export function parseEncryptEvent(data: unknown): EncryptEvent | undefined {
  if (!isRecord(data)) return undefined;
  if (isCount(data.fileId)) {
    const fileId = data.fileId;
    if (data.type === 'checkpoint' && isCount(data.offset) && isHex(data.digest)) {
      return { type: 'checkpoint', fileId, offset: data.offset, digest: data.digest };
    }
    if (data.type === 'hashed' && isHex(data.digest)) return { type: 'hashed', fileId, digest: data.digest };
    if (data.type === 'unhashed') return { type: 'unhashed', fileId };
    return undefined;
  }
  if (!isCount(data.job)) return undefined;
  if (data.type === 'ready' && isCount(data.plainEnd)) return { type: 'ready', job: data.job, plainEnd: data.plainEnd };
  if (data.type === 'range' && Array.isArray(data.parts) && data.parts.every(isBytes)) {
    return { type: 'range', job: data.job, parts: data.parts };
  }
  if (data.type === 'error' && isErrorCode(data.code) && typeof data.message === 'string') {
    return { type: 'error', job: data.job, code: data.code, message: data.message };
  }
  return undefined;
}
