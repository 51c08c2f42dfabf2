/**
 * The one sealer and the one opener of the record format in records.ts, for every caller
 * (the encrypt worker, the download, the service worker's previews, the `ferry` command).
 * Only Web APIs (WebCrypto, Web Streams), so it runs the same in browsers and Node ≥ 20.
 *
 * Random access both ways: `sealParts` seals the records of any ciphertext range, and a
 * `RecordOpener` started at any record opens whatever whole records follow. Every record is
 * checked on its own (tag, index, final flag), so memory stays at the records in flight.
 */
import { FerryError } from './errors.ts';
import { RecordChunker } from './record-chunker.ts';
import {
  cipherRange,
  decryptRecord,
  encryptedSize,
  encryptRecord,
  type FileCipher,
  plainRange,
  recordAtCipherOffset,
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

/**
 * Ciphertext bytes [start, end) of a file as a list of sealed records (the first and last
 * trimmed to the range by views, not copies): the same bytes as records.ts `encryptRange`,
 * without copying them into one array, so `new Blob(parts)` or a socket write takes them
 * as they are. `plain` holds exactly `plainSpan(file, start, end)`.
 */
export async function sealParts(
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
    // Opened side by side, as sealParts seals: WebCrypto's pool does the work.
    const plain = await Promise.all(sealed.map((r) => decryptRecord(this.#file, r.index, r.sealed)));
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
