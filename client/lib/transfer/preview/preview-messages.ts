/**
 * Page ↔ service worker messages of a preview session. The page hands the worker what it
 * needs to answer `/__preview/<session>/<name>` (one file's key, nonce base, sizes, and the
 * ticket to read its ciphertext); the worker answers through the MessagePort sent with the
 * message. Both sides parse what they receive with the parsers below and ignore anything
 * that does not parse, as for downloads (receive/messages.ts).
 *
 * The key is a non-extractable CryptoKey, passed by structured clone: it lives in the page's
 * and the worker's memory only and is never written anywhere.
 */
import { type ErrorCode, isErrorCode } from '../../../../shared/errors.ts';
import { MAX_PATH_LENGTH, MAX_RECORD_SIZE, MIN_RECORD_SIZE, NONCE_BYTES } from '../../../../shared/limits.ts';
import { baseName } from '../../../../shared/names.ts';
import { isCount, isObject, isText } from '../receive/messages.ts';
import { previewFormat } from './preview-kind.ts';

/** Opens (or renews: the page sends it again while the preview stays open) a session. */
export interface SwPreviewOpen {
  type: 'preview-open';
  session: string;
  /** The file's name, for errors and the URL. */
  name: string;
  /** The manifest's MIME type; the worker serves the canonical type of preview-kind.ts. */
  mime: string;
  size: number;
  recordSize: number;
  nonceBase: Uint8Array<ArrayBuffer>;
  key: CryptoKey;
  shareId: string;
  index: number;
  readerToken: string;
  ticket: string;
}

export type SwPreviewClose = { type: 'preview-close'; session: string };

export type SwPreviewMessage = SwPreviewOpen | SwPreviewClose;

/** Service worker → page, on the port of the latest `preview-open`. */
export type SwPreviewEvent =
  | { type: 'preview-ready'; session: string; url: string }
  | { type: 'preview-failed'; session: string; code: ErrorCode; message: string };

/** Path prefix the service worker answers previews under. */
export const PREVIEW_PREFIX = '/__preview/';
/**
 * The error code of a preview URL's failed answer (502), for a page that reads the URL itself
 * (text): the `preview-failed` event on the port may arrive after the response does.
 */
export const PREVIEW_ERROR_HEADER = 'Ferry-Preview-Error';

const SESSION = /^[A-Za-z0-9_-]{22}$/;
const SHARE_ID = /^[A-Za-z0-9_-]{16}$/;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const isSession = (v: unknown): v is string => typeof v === 'string' && SESSION.test(v);
const matches = (v: unknown, pattern: RegExp): v is string => typeof v === 'string' && pattern.test(v);

function parseOpen(data: Record<string, unknown>): SwPreviewOpen | undefined {
  const { session, name, mime, size, recordSize, nonceBase, key, shareId, index, readerToken, ticket } = data;
  if (!isSession(session) || !isText(name, MAX_PATH_LENGTH) || typeof mime !== 'string' || mime.length > 255)
    return undefined;
  if (previewFormat(name, mime) === null) return undefined;
  if (!isCount(size) || !isCount(recordSize) || recordSize < MIN_RECORD_SIZE || recordSize > MAX_RECORD_SIZE) {
    return undefined;
  }
  if (!(nonceBase instanceof Uint8Array) || nonceBase.length !== NONCE_BYTES || !(key instanceof CryptoKey)) {
    return undefined;
  }
  if (!matches(shareId, SHARE_ID) || !isCount(index) || !matches(readerToken, TOKEN) || !matches(ticket, TOKEN)) {
    return undefined;
  }
  const nonce = new Uint8Array(nonceBase);
  return {
    type: 'preview-open',
    session,
    name,
    mime,
    size,
    recordSize,
    nonceBase: nonce,
    key,
    shareId,
    index,
    readerToken,
    ticket,
  };
}

/** Parses a page → service worker preview message; undefined for anything else. */
export function parseSwPreviewMessage(data: unknown): SwPreviewMessage | undefined {
  if (!isObject(data)) return undefined;
  if (data.type === 'preview-open') return parseOpen(data);
  if (data.type === 'preview-close' && isSession(data.session)) return { type: 'preview-close', session: data.session };
  return undefined;
}

/** Parses a service worker → page preview event. */
export function parseSwPreviewEvent(data: unknown): SwPreviewEvent | undefined {
  if (!isObject(data) || !isSession(data.session)) return undefined;
  const { session } = data;
  if (data.type === 'preview-ready' && typeof data.url === 'string' && data.url.startsWith(PREVIEW_PREFIX + session)) {
    return { type: 'preview-ready', session, url: data.url };
  }
  if (data.type === 'preview-failed' && isErrorCode(data.code) && typeof data.message === 'string') {
    return { type: 'preview-failed', session, code: data.code, message: data.message.slice(0, 2000) };
  }
  return undefined;
}

/** The URL a session is served at: the session, then the file's own name (cosmetic). */
export function previewUrl(session: string, name: string): string {
  return `${PREVIEW_PREFIX}${session}/${encodeURIComponent(baseName(name))}`;
}

/** The session id in a /__preview/<session>/<name> path, or undefined. */
export function previewSessionOf(pathname: string): string | undefined {
  if (!pathname.startsWith(PREVIEW_PREFIX)) return undefined;
  const [session, name, ...rest] = pathname.slice(PREVIEW_PREFIX.length).split('/');
  return isSession(session) && name !== undefined && name !== '' && rest.length === 0 ? session : undefined;
}
