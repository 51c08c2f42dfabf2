/** How receive-side failures read: error pages for the share, one sentence per failed file. */
import { type ErrorCode, FerryError } from '../../../../shared/errors.ts';
import { formatBytes } from './format.ts';

export interface ErrorPage {
  title: string;
  message: string;
}

const PAGES: Partial<Record<ErrorCode, string>> = {
  SHARE_NOT_FOUND: 'Link not found',
  NOT_FOUND: 'Link not found',
  SHARE_EXPIRED: 'This link has expired',
  SHARE_REVOKED: 'This link was revoked',
  DOWNLOAD_LIMIT_REACHED: 'Download limit reached',
  WRONG_KEY: 'This link is incomplete',
  MANIFEST_INVALID: 'This share cannot be opened',
  NETWORK_ERROR: 'Ferry could not be reached',
};

const DETAILS: Partial<Record<ErrorCode, string>> = {
  SHARE_NOT_FOUND: 'There is no share at this address. It may have been deleted after it expired.',
  NOT_FOUND: 'There is no share at this address. It may have been deleted after it expired.',
  SHARE_EXPIRED: 'The sender chose how long this link would work, and that time is over.',
  SHARE_REVOKED: 'The sender withdrew these files.',
  DOWNLOAD_LIMIT_REACHED: 'These files have been downloaded as many times as the sender allowed.',
};

/** Codes after which the share as a whole is gone: the page switches to an error page. */
export function isShareGone(code: ErrorCode): boolean {
  return ['SHARE_NOT_FOUND', 'SHARE_EXPIRED', 'SHARE_REVOKED', 'DOWNLOAD_LIMIT_REACHED'].includes(code);
}

/** What a link whose key is wrong or damaged says (the same sentence as openManifest's WRONG_KEY). */
export const WRONG_KEY_MESSAGE = 'This link’s key does not open the share. Check that the whole link was copied.';

/**
 * A failure to read the manifest. The reader token is derived from the link's key, so a
 * damaged key yields a token the server refuses with 401 UNAUTHORIZED before openManifest
 * ever gets to report WRONG_KEY; the recipient holds no other token, so that 401 means the
 * key is wrong and must read as such, not as a missing "Authorization: Bearer".
 */
export function manifestReadError(error: unknown): unknown {
  if (error instanceof FerryError && error.code === 'UNAUTHORIZED') {
    return new FerryError('WRONG_KEY', WRONG_KEY_MESSAGE, { cause: error });
  }
  return error;
}

/** The error page for a failure to open the share. */
export function errorPage(error: unknown): ErrorPage {
  const failure = error instanceof FerryError ? error : new FerryError('INTERNAL', 'Something unexpected happened.');
  return {
    title: PAGES[failure.code] ?? 'This share cannot be opened',
    message: DETAILS[failure.code] ?? failure.message,
  };
}

const VERIFICATION: readonly ErrorCode[] = ['RECORD_AUTH_FAILED', 'RECORD_TRUNCATED', 'FILE_HASH_MISMATCH'];

/** True when a file failed because its content did not verify (not because of the network). */
export function isVerificationFailure(error: unknown): boolean {
  return error instanceof FerryError && VERIFICATION.includes(error.code);
}

/**
 * What a browser that keeps a failed download's bytes has left (WebKit, for a download its
 * service worker served: e2e/webkit/sw-download-cut.test.ts): said instead of "not saved".
 */
export const partKept = (name: string, what: 'file' | 'archive' = 'file') =>
  `Your browser may have kept the part it received as ${name}: delete it, it is not the ${what}.`;

/**
 * What a failed try of a staged download (staging.ts) left: never a file in the browser's
 * downloads; `staged` verified bytes in this browser that the next try continues from.
 */
export function nothingSaved(staged: number, what: 'file' | 'archive' = 'file'): string {
  const saved =
    what === 'archive'
      ? 'Nothing was saved: the archive’s download starts only once every file in it is verified.'
      : 'Nothing was saved: the download starts only once the whole file is verified.';
  const again = what === 'archive' ? 'Download all again' : 'Download again';
  return staged > 0 ? `${saved} ${again} to continue from the ${formatBytes(staged)} already verified.` : saved;
}

/**
 * One sentence naming the file; "<name> failed verification …" when its content is wrong.
 * `kept`: the name the download was saved under, where the browser keeps what it received
 * of a failed download (else null).
 */
export function fileFailure(name: string, error: unknown, kept: string | null = null): string {
  const notSaved = kept !== null ? partKept(kept) : 'The file was not saved.';
  if (!(error instanceof FerryError)) return `${name} could not be downloaded.${kept !== null ? ` ${notSaved}` : ''}`;
  if (error.code === 'RECORD_AUTH_FAILED' || error.code === 'RECORD_TRUNCATED') {
    const record = /record (\d+)/.exec(error.message)?.[1];
    return `${name} failed verification: record ${record ?? '?'} was altered or damaged on the way. ${notSaved}`;
  }
  if (error.code === 'FILE_HASH_MISMATCH') {
    return `${name} failed verification: its content does not match the sender’s BLAKE3 hash. ${notSaved}`;
  }
  if (error.code === 'ABORTED') return `${name} was not downloaded: the download was cancelled.`;
  if (error.code === 'DOWNLOAD_INCOMPLETE') {
    return `${name} was not saved completely: the browser stopped taking the download before its last byte. ${
      kept !== null ? notSaved : 'If a file with this name was saved, delete it and download again.'
    }`;
  }
  return `${name} could not be downloaded: ${error.message}${kept !== null ? ` ${notSaved}` : ''}`;
}
