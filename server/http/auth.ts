/** Bearer tokens (RFC 6750 §2.1): parsed with the shared token schema, compared as hashes. */
import { tokenSchema } from '../../shared/api.ts';
import { timingSafeEqual } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { tokenHash } from '../../shared/keys.ts';

/** The token of an `Authorization: Bearer <token>` header value, if well formed. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer ([^\s]+)$/i.exec(header?.trim() ?? '');
  const parsed = tokenSchema.safeParse(match?.[1]);
  return parsed.success ? parsed.data : undefined;
}

/** Throws UNAUTHORIZED unless the header carries a token whose SHA-256 hex is `expectedHash`. */
export async function requireBearer(header: string | null | undefined, expectedHash: string, what: string) {
  const token = bearerToken(header);
  if (!token || !timingSafeEqual(await tokenHash(token), expectedHash)) {
    throw new FerryError('UNAUTHORIZED', `This needs the share's ${what} token (Authorization: Bearer).`);
  }
}
