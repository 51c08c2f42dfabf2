/**
 * Password-protected links. The browser wraps the share secret with a key made from the
 * password (argon2id, RFC 9106) and from a random link key that stays in the #fragment:
 *
 *   wrapKey = HKDF(argon2id(password, salt) || linkKey, "ferry/v1 password")
 *   wrapped = iv || AES-GCM(wrapKey, iv, secret)
 *
 * The server stores salt, parameters and `wrapped`; it never sees the password or the link
 * key, and anyone holding only one of link and server data cannot try passwords offline.
 */

import { fromBase64Url, randomBytes, toBase64Url } from './encoding.ts';
import { FerryError } from './errors.ts';
import { derivePasswordWrapKey } from './keys.ts';
import { ARGON2_PARAMS, KEY_BYTES, SALT_BYTES, SECRET_BYTES } from './limits.ts';
import { z } from './zod.ts';

const IV_BYTES = 12;

export const passwordWrapSchema = z.object({
  salt: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  wrapped: z.string().regex(/^[A-Za-z0-9_-]{30,200}$/),
  iterations: z.number().int().min(1).max(10),
  /** KiB; bounded so that a sender cannot make a recipient allocate gigabytes. */
  memorySize: z
    .number()
    .int()
    .min(8 * 1024)
    .max(256 * 1024),
  parallelism: z.number().int().min(1).max(4),
});
export type PasswordWrap = z.infer<typeof passwordWrapSchema>;

async function wrapKey(password: string, linkKey: Uint8Array<ArrayBuffer>, params: PasswordWrap): Promise<CryptoKey> {
  // Loaded when a password is first used: the app's start screen does not carry argon2's WASM.
  const { argon2id } = await import('hash-wasm');
  const stretched = await argon2id({
    password: password.normalize('NFC'),
    salt: fromBase64Url(params.salt),
    iterations: params.iterations,
    memorySize: params.memorySize,
    parallelism: params.parallelism,
    hashLength: KEY_BYTES,
    outputType: 'binary',
  });
  const ikm = new Uint8Array(stretched.length + linkKey.length);
  ikm.set(stretched);
  ikm.set(linkKey, stretched.length);
  return derivePasswordWrapKey(ikm);
}

/** Wraps `secret` under `password`; the returned linkKey goes into the link instead of the secret. */
export async function wrapSecret(
  secret: Uint8Array<ArrayBuffer>,
  password: string,
): Promise<{ linkKey: Uint8Array<ArrayBuffer>; wrap: PasswordWrap }> {
  if (password.length === 0) throw new FerryError('BAD_REQUEST', 'The password is empty.');
  const linkKey = randomBytes(SECRET_BYTES);
  const params = { ...ARGON2_PARAMS, salt: toBase64Url(randomBytes(SALT_BYTES)), wrapped: '' };
  const key = await wrapKey(password, linkKey, params);
  const iv = randomBytes(IV_BYTES);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, secret));
  const wrapped = new Uint8Array(IV_BYTES + sealed.length);
  wrapped.set(iv);
  wrapped.set(sealed, IV_BYTES);
  return { linkKey, wrap: { ...params, wrapped: toBase64Url(wrapped) } };
}

/** Recovers the secret; a wrong password (or a damaged link key) is WRONG_PASSWORD. */
export async function unwrapSecret(
  linkKey: Uint8Array<ArrayBuffer>,
  password: string,
  wrap: PasswordWrap,
): Promise<Uint8Array<ArrayBuffer>> {
  const params = passwordWrapSchema.parse(wrap);
  const key = await wrapKey(password, linkKey, params);
  const wrapped = fromBase64Url(params.wrapped);
  try {
    const secret = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: wrapped.subarray(0, IV_BYTES) },
      key,
      wrapped.subarray(IV_BYTES),
    );
    return new Uint8Array(secret);
  } catch (cause) {
    throw new FerryError('WRONG_PASSWORD', 'That password is not the one this link was protected with.', { cause });
  }
}
