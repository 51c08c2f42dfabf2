/**
 * What the sender's card says about one of its links, from the stored record and the
 * owner view (GET /api/shares/:id/owner, which counts completed downloads): which state
 * the link is in, the sentence for it, and which actions still make sense.
 */
import type { FerryError } from '../../../shared/errors.ts';
import type { ShareRecord } from './db.ts';

export type LinkState = 'uploading' | 'live' | 'used-up' | 'expired' | 'revoked';

/** What the server last said about the share (null before the first answer). */
export interface ServerSnapshot {
  downloads: number;
  maxDownloads: number | null;
  expiresAt: number;
}

export interface LinkStatus {
  state: LinkState;
  /** The card's line, e.g. "1 of 2 downloads · expires in 23 h". */
  text: string;
  /** Copy, QR code and the share sheet: only while recipients can still use the link. */
  canShare: boolean;
  canExtend: boolean;
  canRevoke: boolean;
}

/**
 * The state the server's refusal of the owner view means, if any. SHARE_NOT_FOUND is not
 * taken as gone: a stored share outlives the server's record only if that server lost its
 * data, and the card then keeps what it knew rather than guess.
 */
export function stateOfRefusal(error: FerryError): LinkState | null {
  if (error.code === 'SHARE_REVOKED') return 'revoked';
  if (error.code === 'SHARE_EXPIRED') return 'expired';
  return null;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1 of 2 downloads", "3 downloads", "no downloads yet", or "up to 1 download" before the server answered. */
export function downloadsText(maxDownloads: number | null, downloads: number | null): string {
  if (downloads === null) return maxDownloads === null ? '' : `up to ${plural(maxDownloads, 'download')}`;
  if (maxDownloads === null) return downloads === 0 ? 'no downloads yet' : plural(downloads, 'download');
  return `${downloads} of ${plural(maxDownloads, 'download')}`;
}

/** "in 23 h", "in 5 min", "in 3 days", "in less than a minute". */
export function expiresIn(expiresAt: number, now: number): string {
  const seconds = Math.max(0, Math.floor((expiresAt - now) / 1000));
  if (seconds < 60) return 'in less than a minute';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `in ${hours} h`;
  return `in ${plural(Math.floor(hours / 24), 'day')}`;
}

/** The card's state and line for `record`, given the server's last answer and refusal. */
export function linkStatus(
  record: Pick<ShareRecord, 'state' | 'maxDownloads' | 'expiresAt' | 'hasPassword'>,
  server: ServerSnapshot | null,
  refused: LinkState | null,
  now: number,
): LinkStatus {
  // An extension shows at once (the record), before the server is asked again.
  const expiresAt = Math.max(record.expiresAt, server?.expiresAt ?? 0);
  const maxDownloads = server?.maxDownloads ?? record.maxDownloads;
  const downloads = server?.downloads ?? null;
  const password = record.hasPassword ? ' · password protected' : '';
  const none = { canShare: false, canExtend: false };
  if (record.state === 'revoked' || refused === 'revoked') {
    return { state: 'revoked', text: 'Revoked: this link no longer works.', ...none, canRevoke: false };
  }
  if (refused === 'expired' || expiresAt <= now) {
    return { state: 'expired', text: 'Expired: this link no longer works.', ...none, canRevoke: false };
  }
  const count = downloadsText(maxDownloads, downloads);
  if (maxDownloads !== null && downloads !== null && downloads >= maxDownloads) {
    // Revoke still deletes the files from the server before they expire.
    return { state: 'used-up', text: `Used up: ${count}. This link no longer works.`, ...none, canRevoke: true };
  }
  const parts = [count, `expires ${expiresIn(expiresAt, now)}`].filter(Boolean).join(' · ');
  const text = parts.charAt(0).toUpperCase() + parts.slice(1) + password;
  const state: LinkState = record.state === 'uploading' ? 'uploading' : 'live';
  return { state, text, canShare: true, canExtend: true, canRevoke: true };
}
