/**
 * Messages between the Encryptor and its worker, parsed on entry on both sides.
 * A file is opened once (File and CryptoKey are structured-cloneable), then any number of
 * ciphertext ranges are asked for; ciphertext comes back as a transferred ArrayBuffer.
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
    }
  | { type: 'range'; job: number; fileId: number; start: number; end: number }
  | { type: 'close'; fileId: number };

export type EncryptEvent =
  | { type: 'range'; job: number; bytes: ArrayBuffer }
  | { type: 'error'; job: number; code: ErrorCode; message: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function parseEncryptRequest(data: unknown): EncryptRequest | undefined {
  if (!isRecord(data) || !isCount(data.fileId)) return undefined;
  const fileId = data.fileId;
  switch (data.type) {
    case 'open': {
      const { file, key, nonceBase, recordSize, name } = data;
      if (!(file instanceof Blob) || !(key instanceof CryptoKey) || !(nonceBase instanceof Uint8Array))
        return undefined;
      if (nonceBase.length !== 12 || !isCount(recordSize) || recordSize === 0 || typeof name !== 'string') {
        return undefined;
      }
      return { type: 'open', fileId, file, key, nonceBase, recordSize, name };
    }
    case 'range':
      return isCount(data.job) && isCount(data.start) && isCount(data.end) && data.start <= data.end
        ? { type: 'range', job: data.job, fileId, start: data.start, end: data.end }
        : undefined;
    case 'close':
      return { type: 'close', fileId };
    default:
      return undefined;
  }
}

export function parseEncryptEvent(data: unknown): EncryptEvent | undefined {
  if (!isRecord(data) || !isCount(data.job)) return undefined;
  if (data.type === 'range' && data.bytes instanceof ArrayBuffer) {
    return { type: 'range', job: data.job, bytes: data.bytes };
  }
  if (data.type === 'error' && isErrorCode(data.code) && typeof data.message === 'string') {
    return { type: 'error', job: data.job, code: data.code, message: data.message };
  }
  return undefined;
}
