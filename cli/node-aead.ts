/**
 * The `ferry` command's AES-256-GCM for records (shared/record-aead.ts `RecordAead`):
 * node:crypto, synchronous. WebCrypto in Node runs each record as a job on libuv's pool
 * behind a promise and checks its arguments per call: 1.4-1.5 CPU-s per GiB of 64 KiB records
 * against 0.7-0.8 here (measured on this 2-core machine), where the command, its hashing
 * thread and the server share the cores. Only the cipher is here: nonces, additional data
 * and record lengths are the shared code's, so the bytes are the app's.
 */
import { createCipheriv, createDecipheriv, KeyObject } from 'node:crypto';
import { TAG_SIZE } from '../shared/limits.ts';
import type { SyncRecordAead } from '../shared/record-aead.ts';
import { rangeSealer } from '../shared/record-stream.ts';

const keyObjects = new WeakMap<CryptoKey, KeyObject>();

/** node:crypto's handle on a WebCrypto key (it need not be extractable). */
function keyObjectOf(key: CryptoKey): KeyObject {
  let object = keyObjects.get(key);
  if (!object) {
    object = KeyObject.from(key);
    keyObjects.set(key, object);
  }
  return object;
}

/** node:crypto AES-256-GCM: a record's ciphertext and its tag as two parts (no copy joins them). */
export const NODE_CRYPTO_AEAD = {
  sync: true,
  seal(key, nonce, aad, plain) {
    const cipher = createCipheriv('aes-256-gcm', keyObjectOf(key), nonce, { authTagLength: TAG_SIZE });
    cipher.setAAD(aad);
    const body = cipher.update(plain);
    cipher.final();
    return [body, cipher.getAuthTag()];
  },
  open(key, nonce, aad, sealed) {
    const tagAt = sealed.length - TAG_SIZE;
    if (tagAt < 0) throw new RangeError('a sealed record is shorter than its tag');
    const decipher = createDecipheriv('aes-256-gcm', keyObjectOf(key), nonce, { authTagLength: TAG_SIZE });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(tagAt));
    const plain = decipher.update(sealed.subarray(0, tagAt));
    // Throws when the tag does not verify: nothing of `plain` is handed on then.
    decipher.final();
    return new Uint8Array(plain.buffer, plain.byteOffset, plain.length) as Uint8Array<ArrayBuffer>;
  },
} as const satisfies SyncRecordAead;

/** Ciphertext bytes [start, end) of a file, sealed synchronously: `rangeSealer`'s contract. */
export const sealPartsSync = rangeSealer(NODE_CRYPTO_AEAD);
