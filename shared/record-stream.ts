/**
 * The one sealer and the one opener of the record format in records.ts, for every caller
 * (the encrypt worker, the download, the service worker's previews, the `ferry` command).
 * Only Web APIs (WebCrypto, Web Streams), so it runs the same in browsers and Node ≥ 20.
 *
 * Random access both ways: `rangeSealer` seals the records of any ciphertext range, and a
 * `RecordOpener` started at any record opens whatever whole records follow. Every record is
 * checked on its own (tag, index, final flag), so memory stays at the records in flight.
 * The sealer takes its AES-GCM from the adapter that builds it (`RecordAead`): WebCrypto for
 * the app (`sealParts`), node:crypto for `ferry send`, which seals synchronously for half
 * WebCrypto's CPU in Node (cli/record-sealer.ts); everything else is this file's.
 */
import { FerryError } from './errors.ts';
import { RecordChunker } from './record-chunker.ts';
import {
  aadFor,
  cipherRange,
  decryptRecord,
  encryptedSize,
  type FileCipher,
  nonceFor,
  plainRange,
  recordAtCipherOffset,
  recordCount,
} from './records.ts';

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

/** One record for an AEAD to seal: its nonce, additional data and plaintext (a view). */
export interface RecordJob {
  nonce: Uint8Array<ArrayBuffer>;
  aad: Uint8Array<ArrayBuffer>;
  plain: Uint8Array<ArrayBuffer>;
}

/**
 * AES-256-GCM sealing records under one key, the only part of the sealer that differs
 * between environments: for each job, in order, its ciphertext then its 16-byte tag, as one
 * or more parts (concatenated, they are `ciphertext || tag`). The adapter that builds a
 * sealer chooses it: WebCrypto (`WEB_CRYPTO_AEAD`, asynchronous) in browsers and workers,
 * node:crypto (cli/record-sealer.ts, synchronous) in the `ferry` command.
 */
export type RecordAead = AsyncRecordAead | SyncRecordAead;

export interface AsyncRecordAead {
  readonly sync: false;
  seal(key: CryptoKey, jobs: readonly RecordJob[]): Promise<Uint8Array<ArrayBuffer>[][]>;
}

export interface SyncRecordAead {
  readonly sync: true;
  seal(key: CryptoKey, jobs: readonly RecordJob[]): Uint8Array[][];
}

/** WebCrypto: every job is handed over at once, so its thread pool seals them side by side. */
export const WEB_CRYPTO_AEAD = {
  sync: false,
  seal: (key, jobs) =>
    Promise.all(
      jobs.map(async ({ nonce, aad, plain }) => [
        // A view, not a copy: WebCrypto copies its input when called.
        new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, key, plain)),
      ]),
    ),
} as const satisfies AsyncRecordAead;

/** A sealer of ciphertext ranges: the records of [start, end), trimmed to it, as parts in order. */
export type RangeSealer<Parts> = (
  file: FileCipher,
  plain: Uint8Array<ArrayBuffer>,
  start: number,
  end: number,
) => Parts;

/**
 * The range sealer over `aead`: ciphertext bytes [start, end) of a file as a list of parts
 * in order (the first and last trimmed to the range by views, not copies, and none empty),
 * so `new Blob(parts)` or a socket write takes them as they are. `plain` holds exactly
 * `plainSpan(file, start, end)` and may be reused once the parts are answered (they are new
 * memory). Plaintext of another length fails with CONTENT_CHANGED naming the file (thrown by
 * a synchronous sealer, rejected by an asynchronous one). Whatever the AEAD, the bytes are
 * the same: the nonce, additional data and layout all come from records.ts here.
 */
export function rangeSealer(aead: AsyncRecordAead): RangeSealer<Promise<Uint8Array<ArrayBuffer>[]>>;
export function rangeSealer(aead: SyncRecordAead): RangeSealer<Uint8Array[]>;
export function rangeSealer(aead: RecordAead): RangeSealer<Promise<Uint8Array[]> | Uint8Array[]> {
  if (aead.sync) {
    return (file, plain, start, end) => {
      const range = planRange(file, plain, start, end);
      return range.trim(aead.seal(file.key, range.jobs));
    };
  }
  return async (file, plain, start, end) => {
    const range = planRange(file, plain, start, end);
    return range.trim(await aead.seal(file.key, range.jobs));
  };
}

/**
 * The records ciphertext [start, end) touches, as jobs for an AEAD, and how to cut what it
 * answers down to the range.
 */
function planRange(file: FileCipher, plain: Uint8Array<ArrayBuffer>, start: number, end: number) {
  end = Math.min(end, encryptedSize(file));
  const [plainStart, plainEnd] = plainSpan(file, start, end);
  const jobs: RecordJob[] = [];
  if (start === end) return { jobs, trim: () => [] };
  if (plain.length !== plainEnd - plainStart) {
    throw new FerryError('CONTENT_CHANGED', `${file.name} changed size while it was being sent.`);
  }
  const first = recordAtCipherOffset(file, start);
  const last = recordAtCipherOffset(file, end - 1);
  const final = recordCount(file) - 1;
  for (let i = first; i <= last; i++) {
    const [ps, pe] = plainRange(file, i);
    jobs.push({
      nonce: nonceFor(file.nonceBase, i),
      aad: aadFor(i === final),
      plain: plain.subarray(ps - plainStart, pe - plainStart),
    });
  }
  /** Each record's parts, kept where they overlap [start, end). */
  const trim = <B extends ArrayBufferLike>(sealed: Uint8Array<B>[][]): Uint8Array<B>[] => {
    const parts: Uint8Array<B>[] = [];
    for (const [n, record] of sealed.entries()) {
      let at = cipherRange(file, first + n)[0];
      for (const bytes of record) {
        const from = Math.max(start, at);
        const to = Math.min(end, at + bytes.length);
        if (to > from) parts.push(from === at && to === at + bytes.length ? bytes : bytes.subarray(from - at, to - at));
        at += bytes.length;
      }
    }
    return parts;
  };
  return { jobs, trim };
}

/**
 * Ciphertext bytes [start, end) of a file sealed with WebCrypto (the app's sealer; see
 * `rangeSealer`): the same bytes as records.ts `encryptRange`, without copying them into
 * one array.
 */
export const sealParts = rangeSealer(WEB_CRYPTO_AEAD);

/** One opened record: its index and verified plaintext. */
export interface OpenedRecord {
  index: number;
  plain: Uint8Array<ArrayBuffer>;
}

/**
 * Opens a ciphertext byte stream, in whatever chunks it arrives, starting at record
 * `first`. Fails with the codes of records.ts `decryptRecord` (RECORD_AUTH_FAILED,
 * RECORD_TRUNCATED) or LENGTH_MISMATCH for bytes past the last record; each names the file
 * and the record.
 */
export class RecordOpener {
  readonly #file: FileCipher;
  readonly #chunker: RecordChunker;

  constructor(file: FileCipher, first = 0) {
    this.#file = file;
    this.#chunker = new RecordChunker(file, first, file.name);
  }

  /** The first record not yet completely received. */
  get nextIndex(): number {
    return this.#chunker.nextIndex;
  }

  /** True once the file's last record has been received. */
  get done(): boolean {
    return this.#chunker.done;
  }

  /** Forgets a partly received record; the next bytes start record `from`. */
  restart(from = this.nextIndex): void {
    this.#chunker.restart(from);
  }

  /** Feeds ciphertext bytes; answers the records they complete, opened, in order. */
  async push(chunk: Uint8Array): Promise<OpenedRecord[]> {
    const sealed = this.#chunker.push(chunk);
    const plain = await openSealed(
      this.#file,
      sealed[0]?.index ?? 0,
      sealed.map((r) => r.sealed),
    );
    return sealed.map((r, n) => ({ index: r.index, plain: plain[n] as Uint8Array<ArrayBuffer> }));
  }

  /** The input has ended: fails unless it ended on a record boundary (`whole`: at the file's end). */
  end(whole = true): void {
    if (this.#chunker.pending > 0 || (whole && !this.done)) {
      throw new FerryError(
        'RECORD_TRUNCATED',
        `${this.#file.name}: record ${this.nextIndex} is incomplete: the data ended early.`,
      );
    }
  }
}

/**
 * Opens the whole sealed records `first`, `first + 1`, … given one by one (a data channel's
 * frame, a relay read), side by side as sealParts seals: WebCrypto's pool does the work.
 * Answers their plaintext in order; fails as records.ts `decryptRecord` does.
 */
export function openSealed(
  file: FileCipher,
  first: number,
  sealed: readonly Uint8Array<ArrayBuffer>[],
): Promise<Uint8Array<ArrayBuffer>[]> {
  return Promise.all(sealed.map((record, n) => decryptRecord(file, first + n, record)));
}

/**
 * Opens records `first`, `first + 1`, … from `sealed`, which must hold exactly whole records
 * (a ranged read of the ciphertext); answers their plaintext in order.
 */
export async function openRecords(file: FileCipher, first: number, sealed: Uint8Array): Promise<OpenedRecord[]> {
  const opener = new RecordOpener(file, first);
  const records = await opener.push(sealed);
  opener.end(false);
  return records;
}

/**
 * Ciphertext of a file from record `first` → its verified plaintext. The stream errors on
 * the first record that fails and when the input ends before the file's last record.
 */
export function openingStream(file: FileCipher, first = 0): TransformStream<Uint8Array, Uint8Array> {
  const opener = new RecordOpener(file, first);
  return new TransformStream({
    async transform(chunk, controller) {
      for (const { plain } of await opener.push(chunk)) controller.enqueue(plain);
    },
    flush() {
      opener.end();
    },
  });
}
