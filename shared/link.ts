/** Share links: `<origin>/s/<id>#<key>`. The key never leaves the fragment. */

import { shareIdSchema } from './api.ts';
import { fromBase64Url, toBase64Url } from './encoding.ts';
import { FerryError } from './errors.ts';

export interface ShareLink {
  id: string;
  /** The secret, or for a password share the link key that unwraps it with the password. */
  key: Uint8Array<ArrayBuffer>;
}

export function formatShareLink(origin: string, link: ShareLink): string {
  return `${origin}/s/${link.id}#${toBase64Url(link.key)}`;
}

/** Reads a share link (or the location of the page it opens); INVALID_BODY/WRONG_KEY when damaged. */
export function parseShareLink(href: string): ShareLink {
  let url: URL;
  try {
    url = new URL(href);
  } catch (cause) {
    throw new FerryError('BAD_REQUEST', 'That is not a link.', { cause });
  }
  const match = /^\/s\/([^/]+)\/?$/.exec(url.pathname);
  const id = shareIdSchema.safeParse(match?.[1]);
  if (!id.success) throw new FerryError('SHARE_NOT_FOUND', 'That is not a Ferry share link.');
  const fragment = url.hash.slice(1);
  if (!fragment) throw new FerryError('WRONG_KEY', 'The link has no key: the part after # is missing.');
  let key: Uint8Array<ArrayBuffer>;
  try {
    key = fromBase64Url(fragment);
  } catch (cause) {
    throw new FerryError('WRONG_KEY', 'The link is damaged: its key is not readable.', { cause });
  }
  if (key.length < 16) throw new FerryError('WRONG_KEY', 'The link is damaged: its key is too short.');
  return { id: id.data, key };
}
