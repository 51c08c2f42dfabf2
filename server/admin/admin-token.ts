/**
 * The admin token: FERRY_ADMIN_TOKEN, or — when it is unset — one made at first start,
 * printed once and kept only as its SHA-256 hex in access.db. Requests to /api/admin/*
 * carry it as `Authorization: Bearer`; the hashes are compared in constant time.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { tokenHash } from '../../shared/keys.ts';
import type { AccessStore } from '../access/store.ts';

/** The hash to check admin requests against; makes (and prints) a token when there is none. */
export async function adminTokenHash(
  configured: string | null,
  store: AccessStore,
  print: (line: string) => void,
): Promise<string> {
  if (configured !== null) return tokenHash(configured);
  const stored = await store.adminHash();
  if (stored !== null) return stored;
  const token = randomBytes(32).toString('base64url');
  const hash = await tokenHash(token);
  // Another process on the same file may have stored one first: then that one stands.
  if (!(await store.setAdminHash(hash))) return (await store.adminHash())!;
  print(`Ferry admin token (shown once; only its hash is kept, set FERRY_ADMIN_TOKEN to choose your own): ${token}`);
  return hash;
}

/** Longest admin token read from a header (FERRY_ADMIN_TOKEN may be any text without spaces). */
const MAX_TOKEN_CHARS = 512;

/** Throws UNAUTHORIZED unless the request carries the admin token. */
export async function requireAdmin(req: IncomingMessage, expectedHash: string): Promise<void> {
  const match = /^Bearer (\S{1,512})$/i.exec(req.headers.authorization?.trim() ?? '');
  const token = match?.[1];
  if (!token || token.length > MAX_TOKEN_CHARS || !timingSafeEqual(await tokenHash(token), expectedHash)) {
    throw new FerryError('UNAUTHORIZED', 'This needs the admin token (Authorization: Bearer).');
  }
}
