/**
 * How `ferry` ends: exit status by the error's stable code (shared/errors.ts), and one line
 * on stderr, `ferry: CODE: message`, which scripts may parse.
 */
import { type ErrorCode, FerryError } from '../shared/errors.ts';

/** Exit statuses; each groups codes a script would handle the same way. */
export const EXIT = {
  OK: 0,
  /** Anything not listed below. */
  FAILED: 1,
  /** Bad arguments, a file that cannot be read, a link that is not one. */
  USAGE: 2,
  /** Received data failed verification: nothing was kept under its final name. */
  VERIFICATION: 3,
  /** The server could not be reached or the connection kept dropping. */
  NETWORK: 4,
  /** The share or request is gone: expired, revoked, closed, used up, unknown. */
  GONE: 5,
  /** Wrong password or a damaged key in the link. */
  KEY: 6,
  /** The server refused for want of space, quota or an upload key. */
  REFUSED: 7,
  /** Interrupted (Ctrl-C): run the same command again to resume. */
  INTERRUPTED: 130,
} as const;

const BY_CODE: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: EXIT.USAGE,
  INVALID_NAME: EXIT.USAGE,
  CONTENT_CHANGED: EXIT.USAGE,
  RECORD_AUTH_FAILED: EXIT.VERIFICATION,
  RECORD_TRUNCATED: EXIT.VERIFICATION,
  FILE_HASH_MISMATCH: EXIT.VERIFICATION,
  LENGTH_MISMATCH: EXIT.VERIFICATION,
  MANIFEST_INVALID: EXIT.VERIFICATION,
  NETWORK_ERROR: EXIT.NETWORK,
  DOWNLOAD_INCOMPLETE: EXIT.NETWORK,
  PEER_NOT_REACHABLE: EXIT.NETWORK,
  SHARE_NOT_FOUND: EXIT.GONE,
  SHARE_EXPIRED: EXIT.GONE,
  SHARE_REVOKED: EXIT.GONE,
  DOWNLOAD_LIMIT_REACHED: EXIT.GONE,
  FILE_NOT_FOUND: EXIT.GONE,
  REQUEST_NOT_FOUND: EXIT.GONE,
  REQUEST_EXPIRED: EXIT.GONE,
  REQUEST_CLOSED: EXIT.GONE,
  WRONG_PASSWORD: EXIT.KEY,
  WRONG_KEY: EXIT.KEY,
  UNAUTHORIZED: EXIT.KEY,
  STORAGE_FULL: EXIT.REFUSED,
  QUOTA_EXCEEDED: EXIT.REFUSED,
  TOO_LARGE: EXIT.REFUSED,
  REQUEST_LIMIT_REACHED: EXIT.REFUSED,
  UPLOAD_KEY_REQUIRED: EXIT.REFUSED,
  UPLOAD_KEY_INVALID: EXIT.REFUSED,
  ABORTED: EXIT.INTERRUPTED,
};

/** The exit status and stderr line for an error. */
export function exitOf(error: unknown): { status: number; line: string } {
  const failure =
    error instanceof FerryError
      ? error
      : new FerryError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
  return { status: BY_CODE[failure.code] ?? EXIT.FAILED, line: `ferry: ${failure.code}: ${failure.message}` };
}
