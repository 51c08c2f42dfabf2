/**
 * The one catalogue of error codes Ferry speaks. Every error that crosses a boundary
 * (HTTP, WebSocket, data channel, worker) carries one of these codes; the HTTP status for
 * each code is decided here and nowhere else.
 */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  INVALID_BODY: 400,
  INVALID_NAME: 400,
  INVALID_METADATA: 400,
  INVALID_RANGE: 416,
  RANGE_NOT_STORED: 416,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  SHARE_NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  SHARE_ID_TAKEN: 409,
  UPLOAD_SEALED: 409,
  LENGTH_MISMATCH: 409,
  SHARE_EXPIRED: 410,
  SHARE_REVOKED: 410,
  DOWNLOAD_LIMIT_REACHED: 410,
  /** A thumbnail ticket asked for on a share with a download limit (its rows show icons). */
  THUMBNAILS_NOT_OFFERED: 403,
  /** A thumbnail ticket read past a file's first records (limits.ts THUMBNAIL_CIPHER_BYTES). */
  THUMBNAIL_RANGE_EXCEEDED: 416,
  // Request links (reverse shares).
  REQUEST_NOT_FOUND: 404,
  REQUEST_EXPIRED: 410,
  REQUEST_CLOSED: 410,
  REQUEST_LIMIT_REACHED: 413,
  FILE_NOT_READY: 425,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  /** A quota (per upload key or per client network) would be exceeded; see Retry-After. */
  QUOTA_EXCEEDED: 429,
  /** An upload key is needed to create shares or request links on this server. */
  UPLOAD_KEY_REQUIRED: 401,
  /** The upload key given is unknown, revoked or expired. */
  UPLOAD_KEY_INVALID: 403,
  /** A cross-site "simple" request (a body that is not application/json, say). */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** A request body that did not arrive in time. */
  REQUEST_TIMEOUT: 408,
  INTERNAL: 500,
  STORAGE_FAILED: 500,
  /** Storage is full (or over the operator's cap or reserve): nothing was stored. */
  STORAGE_FULL: 507,
  /** The server is at a concurrency or load limit; try again after Retry-After. */
  OVERLOADED: 503,
  /** A storage or coordination engine (database, Redis, S3) cannot be reached right now. */
  ENGINE_UNAVAILABLE: 503,
  // Client-side only: integrity and crypto failures on the recipient.
  RECORD_AUTH_FAILED: 0,
  RECORD_TRUNCATED: 0,
  FILE_HASH_MISMATCH: 0,
  MANIFEST_INVALID: 0,
  WRONG_PASSWORD: 0,
  WRONG_KEY: 0,
  CONTENT_CHANGED: 0,
  NETWORK_ERROR: 0,
  ABORTED: 0,
  /** A download stopped before its last byte (the browser or its service worker cut it). */
  DOWNLOAD_INCOMPLETE: 0,
  // Signaling (WebSocket /signal), answered as { type: 'error', code, message }.
  INVALID_MESSAGE: 400,
  PEER_NOT_REACHABLE: 404,
  PAIR_CODE_INVALID: 404,
  ROOM_FULL: 409,
  /** A pair room's mailbox holds too many sealed messages for a device that is not online. */
  MAILBOX_FULL: 409,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The HTTP status that answers an error code (500 for codes that never reach HTTP). */
export function httpStatusOf(code: ErrorCode): number {
  const status = ERROR_CODES[code];
  return status === 0 ? 500 : status;
}

/** The JSON body of every error answer: `{ error: { code, message } }`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** An error with a stable code; `cause` keeps the third-party error it wraps. */
export class FerryError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FerryError';
    this.code = code;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Reads an `ErrorBody` from parsed JSON, or undefined when it is not one. */
export function parseErrorBody(json: unknown): ErrorBody['error'] | undefined {
  if (typeof json !== 'object' || json === null || !('error' in json)) return undefined;
  const error = (json as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (!isErrorCode(code) || typeof message !== 'string') return undefined;
  return { code, message };
}
