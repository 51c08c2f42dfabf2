/**
 * The one place a record of records.ts meets AES-256-GCM, both ways. `sealRecords` and
 * `openSealedRecords` give each record its nonce and additional data and check its length;
 * the AEAD they are handed (`RecordAead`) only runs the cipher. Every sealer and opener is
 * built on these two: record-stream.ts `rangeSealer` / `RecordOpener` (the encrypt worker,
 * the download, the previews, `ferry send` and `ferry receive`), the P2P sender
 * (shared/p2p/sender-session.ts) and the verifying sink (shared/p2p/verifying-sink.ts).
 *
 * The adapter that builds a sealer or opener chooses the AEAD: WebCrypto (`WEB_CRYPTO_AEAD`,
 * asynchronous) in browsers and workers, node:crypto (cli/node-aead.ts, synchronous) in the
 * `ferry` command, where it costs half WebCrypto's CPU. Both pass one conformance suite
 * (record-aead.conformance.ts), so the bytes are the same whichever runs.
 */
import { FerryError } from './errors.ts';
import {
  aadFor,
  cipherRange,
  encryptedSize,
  type FileCipher,
  nonceFor,
  type PlainReader,
  plainRange,
  recordAtCipherOffset,
  recordCount,
} from './records.ts';

/**
 * AES-256-GCM under `key` with a 12-byte nonce and additional data. `seal` answers
 * `ciphertext || tag` as one or more parts in order (they may share no memory with `plain`);
 * `open` answers the plaintext and throws (or rejects) when the tag does not verify.
 */
export type RecordAead = AsyncRecordAead | SyncRecordAead;

export interface AsyncRecordAead {
  readonly sync: false;
  seal(
    key: CryptoKey,
    nonce: Uint8Array<ArrayBuffer>,
    aad: Uint8Array<ArrayBuffer>,
    plain: Uint8Array<ArrayBuffer>,
  ): Promise<Uint8Array<ArrayBuffer>[]>;
  open(
    key: CryptoKey,
    nonce: Uint8Array<ArrayBuffer>,
    aad: Uint8Array<ArrayBuffer>,
    sealed: Uint8Array<ArrayBuffer>,
  ): Promise<Uint8Array<ArrayBuffer>>;
}

export interface SyncRecordAead {
  readonly sync: true;
  seal(
    key: CryptoKey,
    nonce: Uint8Array<ArrayBuffer>,
    aad: Uint8Array<ArrayBuffer>,
    plain: Uint8Array<ArrayBuffer>,
  ): Uint8Array[];
  open(
    key: CryptoKey,
    nonce: Uint8Array<ArrayBuffer>,
    aad: Uint8Array<ArrayBuffer>,
    sealed: Uint8Array<ArrayBuffer>,
  ): Uint8Array<ArrayBuffer>;
}

/** WebCrypto: each call is a job on its thread pool, so records handed over together run side by side. */
export const WEB_CRYPTO_AEAD = {
  sync: false,
  // Views, not copies: WebCrypto copies its input when called.
  seal: async (key, iv, additionalData, plain) => [
    new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData }, key, plain)),
  ],
  open: async (key, iv, additionalData, sealed) =>
    new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData }, key, sealed)),
} as const satisfies AsyncRecordAead;

/** Each sealed record as its parts in order (concatenated: `ciphertext || tag`). */
export type SealedParts<B extends ArrayBufferLike = ArrayBufferLike> = Uint8Array<B>[][];

/** What `sealRecords` answers over an AEAD: the parts themselves when it is synchronous, else a promise of them. */
export type Sealed<A extends RecordAead> = A extends SyncRecordAead ? SealedParts : Promise<SealedParts<ArrayBuffer>>;

/**
 * Seals records first … first + count - 1 of a file, whose plaintext lies back to back in
 * `plain` (views, not copies, are handed to the AEAD). Plaintext of another length fails with
 * CONTENT_CHANGED naming the file (thrown by a synchronous AEAD, rejected by an asynchronous
 * one). Answers each record's parts, in order: new memory, so `plain` may then be reused.
 */
export function sealRecords<A extends RecordAead>(
  aead: A,
  file: FileCipher,
  first: number,
  count: number,
  plain: Uint8Array<ArrayBuffer>,
): Sealed<A> {
  const last = first + count - 1;
  if (!Number.isInteger(first) || first < 0 || count < 1 || last >= recordCount(file)) {
    throw new RangeError(`records ${first}-${last} of ${file.name} do not exist`);
  }
  const plainStart = plainRange(file, first)[0];
  const jobs = () => {
    if (plain.length !== plainRange(file, last)[1] - plainStart) {
      throw new FerryError('CONTENT_CHANGED', `${file.name} changed size while it was being sent.`);
    }
    const final = recordCount(file) - 1;
    return Array.from({ length: count }, (_, n) => {
      const [ps, pe] = plainRange(file, first + n);
      return [
        nonceFor(file.nonceBase, first + n),
        aadFor(first + n === final),
        plain.subarray(ps - plainStart, pe - plainStart),
      ] as const;
    });
  };
  const sealing: RecordAead = aead;
  if (sealing.sync) return jobs().map((job) => sealing.seal(file.key, ...job)) as Sealed<A>;
  return (async () => Promise.all(jobs().map((job) => sealing.seal(file.key, ...job))))() as Sealed<A>;
}

/**
 * Opens records first, first + 1, … of a file, one sealed record each (side by side with an
 * asynchronous AEAD); answers their plaintext in order. Fails with RECORD_TRUNCATED when a
 * record has the wrong length (or does not exist) and RECORD_AUTH_FAILED when its tag does
 * not verify (flipped bit, wrong key, moved, swapped or truncated stream); both name the
 * file and the record.
 */
export async function openSealedRecords(
  aead: RecordAead,
  file: FileCipher,
  first: number,
  sealed: readonly Uint8Array<ArrayBuffer>[],
): Promise<Uint8Array<ArrayBuffer>[]> {
  const final = recordCount(file) - 1;
  return Promise.all(
    sealed.map(async (record, n) => {
      const index = first + n;
      const [start, end] = cipherRange(file, index);
      if (index < 0 || index > final || record.length !== end - start) {
        throw new FerryError(
          'RECORD_TRUNCATED',
          `${file.name}: record ${index} is ${record.length} bytes, expected ${end - start}.`,
        );
      }
      try {
        return await aead.open(file.key, nonceFor(file.nonceBase, index), aadFor(index === final), record);
      } catch (cause) {
        throw new FerryError('RECORD_AUTH_FAILED', `${file.name}: record ${index} failed verification.`, { cause });
      }
    }),
  );
}

/** Record `index` of a file sealed with WebCrypto, as one array; `plain` is exactly its plaintext. */
export async function encryptRecord(
  file: FileCipher,
  index: number,
  plain: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const [parts] = await sealRecords(WEB_CRYPTO_AEAD, file, index, 1, plain);
  // WebCrypto answers a record as one part.
  return parts!.length === 1 ? parts![0]! : joinParts(parts!);
}

/** Record `index` of a file opened with WebCrypto (errors as `openSealedRecords`). */
export async function decryptRecord(
  file: FileCipher,
  index: number,
  sealed: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const [plain] = await openSealedRecords(WEB_CRYPTO_AEAD, file, index, [sealed]);
  return plain!;
}

/**
 * Ciphertext bytes [start, end) of a file, sealed one record at a time with WebCrypto and
 * copied into one array: the tests' reference for the range sealers' cutting
 * (record-aead.conformance.ts) and for the tus reader's slices.
 */
export async function encryptRange(
  file: FileCipher,
  read: PlainReader,
  start: number,
  end: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const total = encryptedSize(file);
  end = Math.min(end, total);
  if (start < 0 || start > end) throw new RangeError(`bad ciphertext range ${start}-${end}`);
  const out = new Uint8Array(end - start);
  if (start === end) return out;
  const first = recordAtCipherOffset(file, start);
  const last = recordAtCipherOffset(file, end - 1);
  const [plainStart] = plainRange(file, first);
  const plain = await read(plainStart, plainRange(file, last)[1]);
  if (plain.length !== plainRange(file, last)[1] - plainStart) {
    throw new FerryError('CONTENT_CHANGED', `${file.name} changed size while it was being sent.`);
  }
  for (let i = first; i <= last; i++) {
    const [ps, pe] = plainRange(file, i);
    const sealed = await encryptRecord(file, i, plain.subarray(ps - plainStart, pe - plainStart));
    const [cs] = cipherRange(file, i);
    const from = Math.max(start, cs);
    const to = Math.min(end, cs + sealed.length);
    out.set(sealed.subarray(from - cs, to - cs), from - start);
  }
  return out;
}

/** Parts as one new array. */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
