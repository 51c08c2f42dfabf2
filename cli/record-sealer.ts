/**
 * `ferry send`'s record sealer: shared/record-stream.ts `rangeSealer` over node:crypto's
 * AES-256-GCM, synchronous. WebCrypto in Node runs each record as a job on libuv's pool
 * behind a promise and checks its arguments per call: 1.4-1.5 CPU-s per GiB of 64 KiB records
 * against 0.7-0.8 here (measured on this 2-core machine), where the command, its hashing
 * thread and the server share the cores. Only the primitive is here: nonces, additional
 * data and layout are the shared sealer's, so the bytes are the app's.
 */
import { createCipheriv, KeyObject } from 'node:crypto';
import { TAG_SIZE } from '../shared/limits.ts';
import { rangeSealer, type SyncRecordAead } from '../shared/record-stream.ts';

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

/** node:crypto AES-256-GCM: each record's ciphertext and its tag, two parts, no copy joining them. */
export const NODE_CRYPTO_AEAD = {
  sync: true,
  seal(key, jobs) {
    const object = keyObjectOf(key);
    return jobs.map(({ nonce, aad, plain }) => {
      const cipher = createCipheriv('aes-256-gcm', object, nonce, { authTagLength: TAG_SIZE });
      cipher.setAAD(aad);
      const body = cipher.update(plain);
      cipher.final();
      return [body, cipher.getAuthTag()];
    });
  },
} as const satisfies SyncRecordAead;

/** Ciphertext bytes [start, end) of a file, sealed synchronously: `rangeSealer`'s contract. */
export const sealPartsSync = rangeSealer(NODE_CRYPTO_AEAD);
