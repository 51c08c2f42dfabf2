/** Request links: `<origin>/r/<id>#<requester public key>`. The key never leaves the fragment. */
import { FerryError } from './errors.ts';
import { publicKeySchema, requestIdSchema } from './request-api.ts';

export interface RequestLink {
  id: string;
  /** The requester's ECDH public key, base64url (request-keys.ts). */
  key: string;
}

export function formatRequestLink(origin: string, link: RequestLink): string {
  return `${origin}/r/${link.id}#${link.key}`;
}

/** The request id of a path `/r/<id>`, or null. */
export function requestIdOfPath(pathname: string): string | null {
  const id = requestIdSchema.safeParse(/^\/r\/([^/]+)\/?$/.exec(pathname)?.[1]);
  return id.success ? id.data : null;
}

/** The requester's key in a fragment (`#<key>`); WRONG_KEY when it is missing or damaged. */
export function requestKeyOfHash(hash: string): string {
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!fragment) throw new FerryError('WRONG_KEY', 'The link has no key: the part after # is missing.');
  const key = publicKeySchema.safeParse(fragment);
  if (!key.success) throw new FerryError('WRONG_KEY', 'The link is damaged: its key is not readable.');
  return key.data;
}
