/**
 * Cuts a ciphertext byte stream, arriving in whatever chunks the network chose, back into
 * the exact sealed records of shared/records.ts. Each record can then be opened on its own
 * (its length is known from the layout), so a download never holds more than one record
 * of ciphertext.
 */
import { FerryError } from './errors.ts';
import { cipherRange, type RecordLayout, recordCount } from './records.ts';

/** One whole sealed record and its index in the file. */
export interface SealedRecord {
  index: number;
  sealed: Uint8Array<ArrayBuffer>;
}

export class RecordChunker {
  readonly #layout: RecordLayout;
  readonly #count: number;
  readonly #name: string;
  #next: number;
  #buffer: Uint8Array<ArrayBuffer> | null = null;
  #filled = 0;

  /** Starts at record `first`: the first record a (possibly resumed) response begins with. */
  constructor(layout: RecordLayout, first = 0, name = 'file') {
    this.#layout = layout;
    this.#count = recordCount(layout);
    this.#name = name;
    this.#next = first;
  }

  /** The first record not yet completely received. */
  get nextIndex(): number {
    return this.#next;
  }

  /** True once the last record of the file has been emitted. */
  get done(): boolean {
    return this.#next >= this.#count;
  }

  /** Bytes of a partly received record; they are dropped when a resume starts again. */
  get pending(): number {
    return this.#filled;
  }

  /**
   * Forgets a partly received record and expects a new response starting at record `from`
   * (default `nextIndex`; an earlier record when a resume re-fetches some on purpose).
   */
  restart(from = this.#next): void {
    this.#next = from;
    this.#buffer = null;
    this.#filled = 0;
  }

  /** Feeds network bytes; answers the records they complete, in order. */
  push(chunk: Uint8Array): SealedRecord[] {
    const out: SealedRecord[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.done) {
        throw new FerryError('LENGTH_MISMATCH', `${this.#name}: the server sent more bytes than the file has.`);
      }
      if (!this.#buffer) {
        const [start, end] = cipherRange(this.#layout, this.#next);
        this.#buffer = new Uint8Array(end - start);
        this.#filled = 0;
      }
      const take = Math.min(chunk.length - offset, this.#buffer.length - this.#filled);
      this.#buffer.set(chunk.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
      if (this.#filled === this.#buffer.length) {
        out.push({ index: this.#next, sealed: this.#buffer });
        this.#next++;
        this.#buffer = null;
        this.#filled = 0;
      }
    }
    return out;
  }
}
