/**
 * The records of shared/records.ts sealed with node:crypto, synchronously, for `ferry send`:
 * the same bytes as `sealParts` of shared/record-stream.ts (the nonce and additional data
 * come from records.ts itself; cli/record-sealer.test.ts compares the two and the known-answer
 * vectors), for half the CPU. WebCrypto in Node runs each record as a job on libuv's pool
 * behind a promise and checks its arguments per call: 1.4-1.5 CPU-s per GiB of 64 KiB records
 * against 0.7-0.8 here (measured on this 2-core machine), where the command, its hashing
 * thread and the server share the cores. The app seals with WebCrypto (no node: in shared/).
 */
import { createCipheriv, KeyObject } from 'node:crypto';
import { FerryError } from '../shared/errors.ts';
import { TAG_SIZE } from '../shared/limits.ts';
import { plainSpan } from '../shared/record-stream.ts';
import {
  aadFor,
  cipherRange,
  encryptedSize,
  type FileCipher,
  nonceFor,
  plainRange,
  recordAtCipherOffset,
  recordCount,
} from '../shared/records.ts';

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

/**
 * Ciphertext bytes [start, end) of a file as a list of parts in order (each record's
 * ciphertext, then its tag; the first and last trimmed to the range by views): the bytes
 * `sealParts(file, plain, start, end)` answers. `plain` holds exactly `plainSpan(file,
 * start, end)`; it may be reused once this returns (the parts are new memory).
 */
export function sealPartsSync(file: FileCipher, plain: Uint8Array, start: number, end: number): Uint8Array[] {
  end = Math.min(end, encryptedSize(file));
  const [plainStart, plainEnd] = plainSpan(file, start, end);
  if (start === end) return [];
  if (plain.length !== plainEnd - plainStart) {
    throw new FerryError('CONTENT_CHANGED', `${file.name} changed size while it was being sent.`);
  }
  const key = keyObjectOf(file.key);
  const final = recordCount(file) - 1;
  const parts: Uint8Array[] = [];
  const keep = (bytes: Uint8Array, at: number) => {
    const from = Math.max(start, at);
    const to = Math.min(end, at + bytes.length);
    if (to > from) parts.push(from === at && to === at + bytes.length ? bytes : bytes.subarray(from - at, to - at));
  };
  const last = recordAtCipherOffset(file, end - 1);
  for (let i = recordAtCipherOffset(file, start); i <= last; i++) {
    const [ps, pe] = plainRange(file, i);
    const cipher = createCipheriv('aes-256-gcm', key, nonceFor(file.nonceBase, i), { authTagLength: TAG_SIZE });
    cipher.setAAD(aadFor(i === final));
    const body = cipher.update(plain.subarray(ps - plainStart, pe - plainStart));
    cipher.final();
    const [cs] = cipherRange(file, i);
    keep(body, cs);
    keep(cipher.getAuthTag(), cs + body.length);
  }
  return parts;
}
