/**
 * Request links: `<origin>/r/<id>#<requester public key>[.<note>]`. The key and the
 * requester's note for senders (UTF-8, base64url) never leave the fragment, so the server
 * can neither read the note nor swap the key.
 */
import { fromBase64Url, toBase64Url } from './encoding.ts';
import { FerryError } from './errors.ts';
import { publicKeySchema, requestIdSchema } from './request-api.ts';

/** The longest note a requester may leave for senders, in UTF-16 units. */
export const MAX_NOTE_LENGTH = 200;

export interface RequestLink {
  id: string;
  /** The requester's ECDH public key, base64url (request-keys.ts). */
  key: string;
  /** What the requester wrote for senders; empty for none. */
  note: string;
}

/** Why a note cannot go into a link, or null when it can: too long, or control characters. */
export function noteProblem(note: string): string | null {
  if (note.length > MAX_NOTE_LENGTH) return `Keep the note under ${MAX_NOTE_LENGTH} characters.`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(note)) {
    return 'The note cannot contain line breaks, control or direction characters.';
  }
  return null;
}

export function formatRequestLink(origin: string, link: RequestLink): string {
  const note = link.note === '' ? '' : `.${toBase64Url(new TextEncoder().encode(link.note))}`;
  return `${origin}/r/${link.id}#${link.key}${note}`;
}

/** The request id of a path `/r/<id>`, or null. */
export function requestIdOfPath(pathname: string): string | null {
  const id = requestIdSchema.safeParse(/^\/r\/([^/]+)\/?$/.exec(pathname)?.[1]);
  return id.success ? id.data : null;
}

/** The requester's key and note in a fragment (`#<key>[.<note>]`); WRONG_KEY when missing or damaged. */
export function requestFragment(hash: string): Omit<RequestLink, 'id'> {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!fragment) throw new FerryError('WRONG_KEY', 'The link has no key: the part after # is missing.');
  const [keyText, noteText, ...rest] = fragment.split('.');
  const key = publicKeySchema.safeParse(keyText);
  if (!key.success || rest.length > 0)
    throw new FerryError('WRONG_KEY', 'The link is damaged: its key is not readable.');
  let note = '';
  if (noteText !== undefined) {
    try {
      note = new TextDecoder('utf-8', { fatal: true }).decode(fromBase64Url(noteText));
    } catch (cause) {
      throw new FerryError('WRONG_KEY', 'The link is damaged: its note is not readable.', { cause });
    }
    if (note === '' || noteProblem(note))
      throw new FerryError('WRONG_KEY', 'The link is damaged: its note is not readable.');
  }
  return { key: key.data, note };
}
