/**
 * Ciphertext bytes [start, end) of a file as a list of sealed records (the first and last
 * trimmed to the range by views, not copies), for `new Blob(parts)` in the encrypt worker:
 * the same bytes as shared/records.ts `encryptRange`, without copying them into one array
 * first, and without the page copying them again into a Blob.
 */
import { FerryError } from '../../../../shared/errors.ts';
import {
  cipherRange,
  encryptedSize,
  encryptRecord,
  type FileCipher,
  plainRange,
  recordAtCipherOffset,
} from '../../../../shared/records.ts';

/** The plaintext bytes [plainStart, plainEnd) that ciphertext [start, end) needs (whole records). */
export function plainSpan(file: FileCipher, start: number, end: number): [number, number] {
  end = Math.min(end, encryptedSize(file));
  if (start < 0 || start > end) throw new RangeError(`bad ciphertext range ${start}-${end}`);
  if (start === end) return [0, 0];
  return [
    plainRange(file, recordAtCipherOffset(file, start))[0],
    plainRange(file, recordAtCipherOffset(file, end - 1))[1],
  ];
}

/** Seals the records of ciphertext [start, end); `plain` holds exactly `plainSpan(file, start, end)`. */
export async function encryptParts(
  file: FileCipher,
  plain: Uint8Array<ArrayBuffer>,
  start: number,
  end: number,
): Promise<Uint8Array<ArrayBuffer>[]> {
  end = Math.min(end, encryptedSize(file));
  const [plainStart, plainEnd] = plainSpan(file, start, end);
  if (start === end) return [];
  if (plain.length !== plainEnd - plainStart) {
    throw new FerryError('CONTENT_CHANGED', `${file.name} changed size while it was being sent.`);
  }
  const first = recordAtCipherOffset(file, start);
  const last = recordAtCipherOffset(file, end - 1);
  // Every record of the range is handed to WebCrypto at once, not one await after another:
  // its thread pool seals them side by side, and this thread is woken once per range
  // rather than once per record. Memory stays what the range needs (its plaintext and
  // ciphertext); the parts keep record order.
  const sealing: Promise<Uint8Array<ArrayBuffer>>[] = [];
  for (let i = first; i <= last; i++) {
    const [ps, pe] = plainRange(file, i);
    // A view, not a copy: WebCrypto copies its input when called.
    sealing.push(encryptRecord(file, i, plain.subarray(ps - plainStart, pe - plainStart)));
  }
  return (await Promise.all(sealing)).map((sealed, n) => {
    const [cs] = cipherRange(file, first + n);
    const from = Math.max(start, cs);
    const to = Math.min(end, cs + sealed.length);
    return from === cs && to === cs + sealed.length ? sealed : sealed.subarray(from - cs, to - cs);
  });
}
