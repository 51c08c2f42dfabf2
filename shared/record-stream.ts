/**
 * The one sealer and the one opener of the record format in records.ts, for every caller
 * (the encrypt worker, the download, the service worker's previews, the `ferry` command).
 * Only Web APIs (WebCrypto, Web Streams), so it runs the same in browsers and Node ≥ 20.
 *
 * Random access both ways: `rangeSealer` seals the records of any ciphertext range, and a
 * `RecordOpener` started at any record opens whatever whole records follow. Every record is
 * checked on its own (tag, index, final flag), so memory stays at the records in flight.
 * Both take their AES-GCM from the adapter that builds them (record-aead.ts `RecordAead`):
 * WebCrypto for the app (`sealParts`), node:crypto for the `ferry` command
 * (cli/node-aead.ts); nonces, additional data and record lengths are record-aead.ts's.
 */
import { FerryError } from './errors.ts';
import {
  type AsyncRecordAead,
  openSealedRecords,
  type RecordAead,
  type SealedParts,
  type SyncRecordAead,
  sealRecords,
  WEB_CRYPTO_AEAD,
} from './record-aead.ts';
import { RecordChunker } from './record-chunker.ts';
import { cipherRange, encryptedSize, type FileCipher, plainRange, recordAtCipherOffset } from './records.ts';

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
 * a synchronous sealer, rejected by an asynchronous one). The records are record-aead.ts
 * `sealRecords`'s, so the bytes are the same whatever the AEAD.
 */
export function rangeSealer(aead: AsyncRecordAead): RangeSealer<Promise<Uint8Array<ArrayBuffer>[]>>;
export function rangeSealer(aead: SyncRecordAead): RangeSealer<Uint8Array[]>;
export function rangeSealer(aead: RecordAead): RangeSealer<Promise<Uint8Array[]> | Uint8Array[]>;
export function rangeSealer(aead: RecordAead): RangeSealer<Promise<Uint8Array[]> | Uint8Array[]> {
  return (file, plain, start, end) => {
    end = Math.min(end, encryptedSize(file));
    plainSpan(file, start, end);
    if (start === end) return aead.sync ? [] : Promise.resolve([]);
    const first = recordAtCipherOffset(file, start);
    const count = recordAtCipherOffset(file, end - 1) - first + 1;
    const trim = <B extends ArrayBufferLike>(sealed: SealedParts<B>) => trimParts(file, first, sealed, start, end);
    if (aead.sync) return trim(sealRecords(aead, file, first, count, plain));
    return sealRecords(aead, file, first, count, plain).then(trim);
  };
}

/** Each record's parts from record `first` on, kept where they overlap ciphertext [start, end). */
function trimParts<B extends ArrayBufferLike>(
  file: FileCipher,
  first: number,
  sealed: SealedParts<B>,
  start: number,
  end: number,
): Uint8Array<B>[] {
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
}

/**
 * Ciphertext bytes [start, end) of a file sealed with WebCrypto (the app's sealer; see
 * `rangeSealer`): the same bytes as record-aead.ts `encryptRange`, without copying them
 * into one array.
 */
export const sealParts = rangeSealer(WEB_CRYPTO_AEAD);

/** One opened record: its index and verified plaintext. */
export interface OpenedRecord {
  index: number;
  plain: Uint8Array<ArrayBuffer>;
}

/**
 * Opens a ciphertext byte stream, in whatever chunks it arrives, starting at record
 * `first`, with `aead` (WebCrypto unless the adapter gives another). Fails with the codes of
 * record-aead.ts `openSealedRecords` (RECORD_AUTH_FAILED,
 * RECORD_TRUNCATED) or LENGTH_MISMATCH for bytes past the last record; each names the file
 * and the record.
 */
export class RecordOpener {
  readonly #file: FileCipher;
  readonly #chunker: RecordChunker;
  readonly #aead: RecordAead;

  constructor(file: FileCipher, first = 0, aead: RecordAead = WEB_CRYPTO_AEAD) {
    this.#file = file;
    this.#aead = aead;
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
    if (sealed.length === 0) return [];
    // The chunker answers consecutive records; opened side by side, as sealParts seals.
    const plain = await openSealedRecords(
      this.#aead,
      this.#file,
      sealed[0]!.index,
      sealed.map((r) => r.sealed),
    );
    return sealed.map((r, n) => ({ index: r.index, plain: plain[n]! }));
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
