/**
 * The keychain: every key Ferry derives from a secret, each with its own HKDF `info` label
 * (LABELS). Nothing else in the tree calls HKDF, so a label lives in one place and the
 * known-answer vectors in keys.test.ts catch any change to one (a changed label would make
 * every link, pairing and relay share made before it unreadable).
 *
 *   link secret (16 random bytes, only ever in the link's #fragment)
 *     └─ HKDF-SHA256 (RFC 5869), salt "ferry/v1", one `info` label per key
 *          ├─ content key  HKDF key; one AES-256-GCM key per file is derived from it with
 *          │                the file's nonce base, so a key handed on for one file (dedup)
 *          │                opens that file and no other
 *          ├─ metadata key AES-256-GCM, encrypts the manifest
 *          ├─ reader token 32 bytes the server checks (it stores only its SHA-256)
 *          ├─ p2p MAC key  HMAC-SHA256 over a data channel's DTLS fingerprints (p2p/auth.ts)
 *          └─ relay id     the share a peer transfer falls back to (p2p/relay.ts)
 *   pairing secret (32 random bytes, in both paired devices' IndexedDB)
 *     ├─ p2p MAC key       as above
 *     └─ offline key       AES-256-GCM, seals offers/answers via the server (p2p/offline-seal.ts)
 *   pairing code + pair room ─► code secret: the MAC input of a pairing's first connection
 *   argon2id(password) || link key ─► password wrap key (password.ts)
 *   ECDH(sender, requester) ─► a request upload's link secret (request-keys.ts)
 */
import { randomBytes, sha256Hex, toBase64Url } from './encoding.ts';
import { KEY_BYTES, SECRET_BYTES, TOKEN_BYTES } from './limits.ts';
import type { FileCipher, RecordLayout } from './records.ts';

const HKDF_SALT = new TextEncoder().encode('ferry/v1');

/** Every HKDF `info` label (and the one other salt), by what it derives. Never change one. */
export const LABELS = {
  content: 'ferry/v1 content',
  metadata: 'ferry/v1 metadata',
  reader: 'ferry/v1 reader',
  /** Followed by the file's 12-byte nonce base. */
  file: 'ferry/v1 file',
  password: 'ferry/v1 password',
  /** Also the salt of that derivation; followed by "\n" requestId "\n" requesterKey "\n" senderKey. */
  request: 'ferry/v1 request',
  p2pMac: 'ferry/v1 p2p mac',
  /** Followed by "\n" and the pair room. */
  pairingCode: 'ferry/v1 p2p pairing code',
  offline: 'ferry/v1 p2p offline',
  relayId: 'ferry/v1 p2p relay id',
} as const;

/** Bytes of a pairing secret (random, made by the device that created the code). */
export const PAIRING_SECRET_BYTES = 32;
/** Bytes of a relay share id before base64url (16 characters). */
const RELAY_ID_BYTES = 12;

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

/** HKDF-SHA256 with Ferry's salt; private so that every label is in this file. */
async function hkdfBytes(ikm: Uint8Array<ArrayBuffer>, info: string, length: number): Promise<Uint8Array<ArrayBuffer>> {
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
    hkdfBytes(secret, LABELS.content, KEY_BYTES),
    hkdfBytes(secret, LABELS.metadata, KEY_BYTES),
    hkdfBytes(secret, LABELS.reader, TOKEN_BYTES),
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
  const label = new TextEncoder().encode(LABELS.file);
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

/** The AES-256-GCM key that wraps a link secret under a password: HKDF(argon2id(password) || link key). */
export async function derivePasswordWrapKey(ikm: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return importAesKey(await hkdfBytes(ikm, LABELS.password, KEY_BYTES));
}

/** What a request upload's secret is bound to: the request and both public keys, as base64url text. */
export interface UploadBinding {
  requestId: string;
  requesterKey: string;
  senderKey: string;
}

/**
 * A request upload's link secret from the ECDH shared bits: HKDF with salt and label
 * "ferry/v1 request" and the binding in `info`, so a secret is good for one upload of one
 * request only.
 */
export async function deriveRequestSecret(
  ecdhBits: ArrayBuffer,
  binding: UploadBinding,
): Promise<Uint8Array<ArrayBuffer>> {
  const base = await crypto.subtle.importKey('raw', ecdhBits, 'HKDF', false, ['deriveBits']);
  const info = new TextEncoder().encode(
    [LABELS.request, binding.requestId, binding.requesterKey, binding.senderKey].join('\n'),
  );
  const salt = new TextEncoder().encode(LABELS.request);
  const bits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, base, SECRET_BYTES * 8);
  return new Uint8Array(bits);
}

/** The HMAC key for data channels between holders of `secret` (a link, transfer or pairing secret). */
export async function deriveMacKey(secret: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const raw = await hkdfBytes(secret, LABELS.p2pMac, 32);
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/**
 * The MAC mode input for the first connection after pairing: HKDF over the 6-digit code,
 * bound to the pair room, so a code that is reused later (codes repeat: there are only a
 * million) never gives the same key in another room.
 */
export function pairingCodeSecret(code: string, room: string): Promise<Uint8Array<ArrayBuffer>> {
  return hkdfBytes(new TextEncoder().encode(code), `${LABELS.pairingCode}\n${room}`, PAIRING_SECRET_BYTES);
}

/** The AES-GCM key two paired devices seal messages with when no data channel opened. */
export async function deriveOfflineKey(pairingSecret: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return importAesKey(await hkdfBytes(pairingSecret, LABELS.offline, KEY_BYTES));
}

/** The relay share's id for a peer transfer: HKDF(secret), 12 bytes, 16 base64url characters. */
export async function relayShareId(secret: Uint8Array<ArrayBuffer>): Promise<string> {
  return toBase64Url(await hkdfBytes(secret, LABELS.relayId, RELAY_ID_BYTES));
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
