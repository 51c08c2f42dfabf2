/**
 * From the link secret to the keys of a share.
 *
 *   secret (16 random bytes, only ever in the link's #fragment)
 *     └─ HKDF-SHA256 (RFC 5869), salt "ferry/v1", one `info` label per key
 *          ├─ content key  HKDF key; one AES-256-GCM key per file is derived from it with
 *          │                the file's nonce base, so a key handed on for one file (dedup)
 *          │                opens that file and no other
 *          ├─ metadata key AES-256-GCM, encrypts the manifest
 *          └─ reader token 32 bytes the server checks (it stores only its SHA-256)
 */
import { randomBytes, sha256Hex, toBase64Url } from './encoding.ts';
import { KEY_BYTES, SECRET_BYTES, TOKEN_BYTES } from './limits.ts';
import type { FileCipher, RecordLayout } from './records.ts';

const HKDF_SALT = new TextEncoder().encode('ferry/v1');

export interface ShareKeys {
  /** HKDF base key for the per-file keys (deriveFileKey); not an AES key itself. */
  contentKey: CryptoKey;
  metaKey: CryptoKey;
  /** base64url; sent as `Authorization: Bearer <readerToken>` to read a share. */
  readerToken: string;
}

export function newSecret(): Uint8Array<ArrayBuffer> {
  return randomBytes(SECRET_BYTES);
}

export async function hkdfBytes(
  ikm: Uint8Array<ArrayBuffer>,
  info: string,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const base = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: HKDF_SALT, info: new TextEncoder().encode(info) },
    base,
    length * 8,
  );
  return new Uint8Array(bits);
}

/** Imports 32 raw bytes as an AES-GCM key usable for both directions. */
export function importAesKey(raw: Uint8Array<ArrayBuffer>, extractable = false): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, extractable, ['encrypt', 'decrypt']);
}

export async function deriveShareKeys(secret: Uint8Array<ArrayBuffer>): Promise<ShareKeys> {
  const [content, meta, reader] = await Promise.all([
    hkdfBytes(secret, 'ferry/v1 content', KEY_BYTES),
    hkdfBytes(secret, 'ferry/v1 metadata', KEY_BYTES),
    hkdfBytes(secret, 'ferry/v1 reader', TOKEN_BYTES),
  ]);
  return {
    contentKey: await crypto.subtle.importKey('raw', content, 'HKDF', false, ['deriveBits']),
    metaKey: await importAesKey(meta),
    readerToken: toBase64Url(reader),
  };
}

/**
 * The AES-256-GCM key of one file: HKDF(content key, info "ferry/v1 file" || nonceBase).
 * Raw bytes, for remembering a sealed file so that a later share can reuse it (dedup).
 */
export async function deriveFileKeyBytes(
  contentKey: CryptoKey,
  nonceBase: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const label = new TextEncoder().encode('ferry/v1 file');
  const info = new Uint8Array(label.length + nonceBase.length);
  info.set(label);
  info.set(nonceBase, label.length);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: HKDF_SALT, info },
    contentKey,
    KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/** The AES-256-GCM key of one file (see deriveFileKeyBytes). */
export async function deriveFileKey(contentKey: CryptoKey, nonceBase: Uint8Array): Promise<CryptoKey> {
  return importAesKey(await deriveFileKeyBytes(contentKey, nonceBase));
}

/** What the server keeps of a token: the hex SHA-256 of its base64url text. */
export function tokenHash(token: string): Promise<string> {
  return sha256Hex(new TextEncoder().encode(token));
}

/** Everything needed to seal or open one file's records: its key, nonce base and layout. */
export async function fileCipherOf(
  contentKey: CryptoKey,
  nonceBase: Uint8Array,
  layout: RecordLayout,
  name: string,
): Promise<FileCipher> {
  const key = await deriveFileKey(contentKey, nonceBase);
  return { key, nonceBase, size: layout.size, recordSize: layout.recordSize, name };
}
