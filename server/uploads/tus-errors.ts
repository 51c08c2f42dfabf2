/**
 * tus answers in Ferry's error shape. @tus/server throws fixed objects from its ERRORS table
 * (and our hooks throw FerryError); onResponseError maps both to `{ error: { code, message } }`
 * with the catalogue's status. Answers tus writes before any handler runs (missing or wrong
 * Tus-Resumable, malformed tus headers) are rewrapped in FerryTusServer.write.
 */

import { ERRORS } from '@tus/server';
import { type ErrorCode, FerryError, httpStatusOf } from '../../shared/errors.ts';
import { engineDown, isEngineDown } from '../engine-down.ts';
import { type ErrorReport, reportError } from '../http/respond.ts';
import { isOutOfSpace, storageFull } from '../storage-full.ts';

type TusError = { status_code: number; body: string };

const TUS_CODES = new Map<TusError, ErrorCode>([
  [ERRORS.MISSING_OFFSET, 'BAD_REQUEST'],
  [ERRORS.INVALID_CONTENT_TYPE, 'BAD_REQUEST'],
  [ERRORS.INVALID_LENGTH, 'BAD_REQUEST'],
  [ERRORS.ABORTED, 'BAD_REQUEST'],
  [ERRORS.INVALID_METADATA, 'INVALID_METADATA'],
  [ERRORS.FILE_NOT_FOUND, 'NOT_FOUND'],
  [ERRORS.FILE_NO_LONGER_EXISTS, 'NOT_FOUND'],
  [ERRORS.INVALID_OFFSET, 'CONFLICT'],
  [ERRORS.INVALID_TERMINATION, 'UPLOAD_SEALED'],
  [ERRORS.ERR_SIZE_EXCEEDED, 'TOO_LARGE'],
  [ERRORS.ERR_MAX_SIZE_EXCEEDED, 'TOO_LARGE'],
  [ERRORS.FILE_WRITE_ERROR, 'STORAGE_FAILED'],
  [ERRORS.ERR_LOCK_TIMEOUT, 'STORAGE_FAILED'],
  [ERRORS.UNKNOWN_ERROR, 'INTERNAL'],
]);

function isTusError(error: unknown): error is TusError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as TusError).status_code === 'number' &&
    typeof (error as TusError).body === 'string'
  );
}

function codeForStatus(status: number): ErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 413) return 'TOO_LARGE';
  if (status >= 500 && status !== 501) return 'INTERNAL';
  return 'BAD_REQUEST';
}

/** Any error a tus request produced, as a FerryError. */
export function ferryErrorFromTus(error: unknown): FerryError {
  if (error instanceof FerryError) return error;
  if (isOutOfSpace(error)) return storageFull(error);
  if (isEngineDown(error)) return engineDown(error);
  if (isTusError(error)) {
    const code = TUS_CODES.get(error) ?? codeForStatus(error.status_code);
    return new FerryError(code, error.body.trim() || 'The upload request was refused.');
  }
  return new FerryError('INTERNAL', 'Something went wrong with the upload.', { cause: error });
}

/** The `{ status_code, body }` @tus/server writes for an error. */
export function tusErrorResponse(error: unknown, report: ErrorReport): TusError {
  const ferry = ferryErrorFromTus(error);
  reportError(ferry, report, 'upload request failed');
  return { status_code: httpStatusOf(ferry.code), body: JSON.stringify(ferry.toBody()) };
}
