/**
 * Keys of a request link ("reverse share").
 *
 *   requester: ECDH P-256 key pair; the private key never leaves its browser (non-extractable
 *              CryptoKey in IndexedDB), the public key travels in the link's #fragment
 *   sender:    a fresh ECDH P-256 key pair per upload (ephemeral; its public key is stored
 *              with the upload on the server)
 *   secret  =  HKDF-SHA256(ECDH(sender, requester), salt "ferry/v1 request",
 *                          info "ferry/v1 request" || requestId || requesterKey || senderKey)
 *
 * The 16-byte secret is an ordinary share secret (keys.ts derives the content key, the
 * metadata key and the reader token from it), so an upload into a request is a share that
 * only the sender and the holder of the requester's private key can open. Binding both
 * public keys and the request id into `info` means a secret is good for one upload of one
 * request only. Works in browsers and Node (WebCrypto only).
 */
import { fromBase64Url, toBase64Url } from './encoding.ts';
import { FerryError } from './errors.ts';
import { deriveRequestSecret, type UploadBinding } from './keys.ts';

const CURVE = { name: 'ECDH', namedCurve: 'P-256' } as const;

/**
 * A fresh requester key pair. The app's private key cannot be exported (only used to
 * derive; IndexedDB keeps the CryptoKey itself); `ferry`, which keeps it in a file, asks
 * for an exportable one.
 */
export async function newRequesterKeys(extractable = false): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(CURVE, extractable, ['deriveBits'])) as CryptoKeyPair;
}

/** A private key as unpadded base64url of its PKCS #8 encoding (RFC 5208), for a file. */
export async function exportPrivateKey(key: CryptoKey): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.exportKey('pkcs8', key)));
}

/** A private key written by exportPrivateKey, usable only to derive; WRONG_KEY when damaged. */
export async function importPrivateKey(text: string): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey('pkcs8', fromBase64Url(text), CURVE, false, ['deriveBits']);
  } catch (cause) {
    throw new FerryError('WRONG_KEY', 'The request’s private key is damaged.', { cause });
  }
}

/** The public key as unpadded base64url of its 65-byte uncompressed point. */
export async function exportPublicKey(key: CryptoKey): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.exportKey('raw', key)));
}

/** Imports a public key; INVALID_BODY when the text is not a point on P-256. */
export async function importPublicKey(text: string): Promise<CryptoKey> {
  try {
    const raw = fromBase64Url(text);
    if (raw.length !== 65 || raw[0] !== 4) throw new TypeError('not an uncompressed P-256 point');
    // One spelling per key: the secret binds the text, so another spelling would not match.
    if (toBase64Url(raw) !== text) throw new TypeError('not the canonical base64url of the point');
    // WebCrypto refuses a point that is not on the curve (SP 800-56A public key validation).
    return await crypto.subtle.importKey('raw', raw, CURVE, true, []);
  } catch (cause) {
    throw new FerryError('INVALID_BODY', 'The public key is not a valid P-256 key.', { cause });
  }
}

export type { UploadBinding };

/** HKDF(ECDH(own private key, other public key)) bound to `binding`: the upload's share secret. */
export async function deriveUploadSecret(
  privateKey: CryptoKey,
  otherPublic: CryptoKey,
  binding: UploadBinding,
): Promise<Uint8Array<ArrayBuffer>> {
  const shared = await crypto.subtle.deriveBits({ name: 'ECDH', public: otherPublic }, privateKey, 256);
  return deriveRequestSecret(shared, binding);
}

/** The sender's side: a fresh ephemeral key pair, its public key, and the upload's secret. */
export async function senderUploadSecret(
  requestId: string,
  requesterKey: string,
): Promise<{ senderKey: string; secret: Uint8Array<ArrayBuffer> }> {
  const requester = await importPublicKey(requesterKey);
  const ephemeral = (await crypto.subtle.generateKey(CURVE, false, ['deriveBits'])) as CryptoKeyPair;
  const senderKey = await exportPublicKey(ephemeral.publicKey);
  const secret = await deriveUploadSecret(ephemeral.privateKey, requester, { requestId, requesterKey, senderKey });
  return { senderKey, secret };
}

/** The requester's side: the secret of one upload, from its own private key and the sender's public key. */
export async function requesterUploadSecret(
  privateKey: CryptoKey,
  binding: UploadBinding,
): Promise<Uint8Array<ArrayBuffer>> {
  return deriveUploadSecret(privateKey, await importPublicKey(binding.senderKey), binding);
}
