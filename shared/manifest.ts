/**
 * The manifest: what a share holds. It is encrypted with the metadata key, so the server
 * sees only its length. The recipient trusts nothing in it until it decrypts, parses and
 * validates it here.
 */

import { fromBase64Url, randomBytes, toBase64Url } from './encoding.ts';
import { FerryError } from './errors.ts';
import { deriveFileKey, deriveFileKeyBytes, importAesKey } from './keys.ts';
import {
  KEY_BYTES,
  MAX_FILES,
  MAX_MANIFEST_BYTES,
  MAX_RECORD_SIZE,
  MAX_RECORDS,
  MIN_RECORD_SIZE,
  NONCE_BYTES,
} from './limits.ts';
import { safeRelativePath } from './names.ts';
import { type FileCipher, recordCount } from './records.ts';
import { z } from './zod.ts';

const MANIFEST_IV_BYTES = 12;
const MANIFEST_AAD = new TextEncoder().encode('ferry/v1 manifest');

const b64Bytes = (length: number) =>
  z.string().refine((s) => {
    try {
      return fromBase64Url(s).length === length;
    } catch {
      return false;
    }
  }, `must be ${length} bytes of base64url`);

export const manifestFileSchema = z
  .object({
    /** Relative path with '/' between folders. */
    name: z.string().transform((name, ctx) => {
      try {
        return safeRelativePath(name);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'bad name' });
        return z.NEVER;
      }
    }),
    size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** MIME type as the sender's browser reported it; only a hint. */
    type: z.string().max(255),
    modified: z.number().int().min(0).optional(),
    recordSize: z.number().int().min(MIN_RECORD_SIZE).max(MAX_RECORD_SIZE),
    /** base64url of the 12-byte per-file nonce base. */
    nonce: b64Bytes(NONCE_BYTES),
    /** BLAKE3 of the whole plaintext, hex; null while the sender is still hashing. */
    blake3: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable(),
    /** A file key of its own (base64url), for content reused from an earlier share. */
    key: b64Bytes(KEY_BYTES).optional(),
  })
  .refine((f) => recordCount(f) <= MAX_RECORDS, 'file has too many records');

export const manifestSchema = z.object({
  v: z.literal(1),
  files: z.array(manifestFileSchema).min(1).max(MAX_FILES),
});

export type ManifestFile = z.output<typeof manifestFileSchema>;
export type Manifest = z.output<typeof manifestSchema>;

/** Encrypts a manifest: base64url(iv || AES-GCM(metaKey, iv, json)). */
export async function sealManifest(manifest: Manifest, metaKey: CryptoKey): Promise<string> {
  const iv = randomBytes(MANIFEST_IV_BYTES);
  const json = new TextEncoder().encode(JSON.stringify(manifestSchema.parse(manifest)));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: MANIFEST_AAD }, metaKey, json),
  );
  const out = new Uint8Array(iv.length + sealed.length);
  out.set(iv);
  out.set(sealed, iv.length);
  if (out.length > MAX_MANIFEST_BYTES) {
    throw new FerryError('TOO_LARGE', 'Too many files or names too long for one share.');
  }
  return toBase64Url(out);
}

/** Decrypts and validates a manifest; WRONG_KEY when it does not open, MANIFEST_INVALID when malformed. */
export async function openManifest(sealed: string, metaKey: CryptoKey): Promise<Manifest> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = fromBase64Url(sealed);
  } catch (cause) {
    throw new FerryError('MANIFEST_INVALID', 'The share description is damaged.', { cause });
  }
  if (bytes.length <= MANIFEST_IV_BYTES) throw new FerryError('MANIFEST_INVALID', 'The share description is damaged.');
  let json: string;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.subarray(0, MANIFEST_IV_BYTES), additionalData: MANIFEST_AAD },
      metaKey,
      bytes.subarray(MANIFEST_IV_BYTES),
    );
    json = new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch (cause) {
    throw new FerryError(
      'WRONG_KEY',
      'This link’s key does not open the share. Check that the whole link was copied.',
      {
        cause,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (cause) {
    throw new FerryError('MANIFEST_INVALID', 'The share description is not valid JSON.', { cause });
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    throw new FerryError('MANIFEST_INVALID', `The share description is invalid: ${result.error.issues[0]?.message}`);
  }
  const names = new Set<string>();
  for (const file of result.data.files) {
    if (names.has(file.name)) throw new FerryError('MANIFEST_INVALID', `"${file.name}" appears twice in the share.`);
    names.add(file.name);
  }
  return result.data;
}

/** The record cipher of one manifest file: its own `key` when it has one, else derived from the content key. */
export async function fileCipher(file: ManifestFile, contentKey: CryptoKey): Promise<FileCipher> {
  const nonceBase = fromBase64Url(file.nonce);
  return {
    name: file.name,
    size: file.size,
    recordSize: file.recordSize,
    nonceBase,
    key: file.key ? await importAesKey(fromBase64Url(file.key)) : await deriveFileKey(contentKey, nonceBase),
  };
}

/**
 * The raw AES-256-GCM key of one file (its own, or derived from the content key), for the
 * service worker that fetches a download itself: plain bytes clone to it in every browser,
 * and the worker imports them as a non-extractable key kept for that download only.
 */
export async function fileKeyBytes(file: ManifestFile, contentKey: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  return file.key ? fromBase64Url(file.key) : await deriveFileKeyBytes(contentKey, fromBase64Url(file.nonce));
}
