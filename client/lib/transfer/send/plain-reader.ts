/**
 * The encrypt worker's plaintext reads, which also feed an incremental BLAKE3 while a send
 * proceeds in order from byte 0, so the file is read once instead of twice (once by the
 * hash worker, once here). Every read that passes the hashed prefix is extended to the next
 * checkpoint (a multiple of `checkpointEvery`, or the end of the file), hashed, and kept
 * for the following slices: the page then stores that checkpoint before it lets the slice
 * be encrypted, as the CoverageGate demands. The prefix digests mean exactly what the
 * Hasher's mean (BLAKE3 of bytes [0, offset)), at the same offsets.
 *
 * A read that starts past the hashed prefix (a resume or a tus retry from elsewhere) ends
 * the fused hashing: `unhashed` is reported once, and the page hashes with the Hasher.
 * A read that starts before it (a retry of an earlier chunk) hashes nothing again.
 */
import type { IHasher } from 'hash-wasm';
import { FerryError } from '../../../../shared/errors.ts';

export type HashNews =
  | { type: 'checkpoint'; offset: number; digest: string }
  | { type: 'hashed'; digest: string }
  | { type: 'unhashed' };

export type ByteReader = (start: number, end: number) => Promise<Uint8Array<ArrayBuffer>>;

export class PlainReader {
  readonly #read: ByteReader;
  readonly #size: number;
  readonly #every: number;
  #hasher: IHasher | undefined;
  readonly #report: (news: HashNews) => void;
  #hashedTo = 0;
  /** The last bytes read, [start, start + bytes.length). */
  #window: { start: number; bytes: Uint8Array<ArrayBuffer> } | undefined;
  /** Reads run one at a time: hashing must see the bytes in order. */
  #queue: Promise<unknown> = Promise.resolve();

  /** `hasher` undefined: read only, hash nothing. */
  constructor(
    read: ByteReader,
    size: number,
    options: { checkpointEvery: number; hasher?: IHasher; report?: (news: HashNews) => void },
  ) {
    this.#read = read;
    this.#size = size;
    this.#every = options.checkpointEvery;
    this.#hasher = options.hasher?.init();
    this.#report = options.report ?? (() => undefined);
  }

  /** Plaintext bytes [start, end). */
  plain(start: number, end: number): Promise<Uint8Array<ArrayBuffer>> {
    const run = this.#queue.then(() => this.#plain(start, end));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Drops the bytes kept for the next slice. */
  release(): void {
    this.#window = undefined;
  }

  async #plain(start: number, end: number): Promise<Uint8Array<ArrayBuffer>> {
    const hasher = this.#hasher;
    if (hasher && start > this.#hashedTo) {
      this.#hasher = undefined;
      this.#window = undefined;
      this.#report({ type: 'unhashed' });
      return this.#plain(start, end);
    }
    if (hasher && (end > this.#hashedTo || this.#size === 0)) {
      const target = this.#every > 0 ? Math.min(this.#size, Math.ceil(end / this.#every) * this.#every) : this.#size;
      const bytes = await this.#readExactly(start, target);
      let at = this.#hashedTo;
      while (at < target) {
        const stop = this.#every > 0 ? Math.min(target, (Math.floor(at / this.#every) + 1) * this.#every) : target;
        hasher.update(bytes.subarray(at - start, stop - start));
        at = stop;
        if (stop < this.#size) {
          const state = hasher.save();
          this.#report({ type: 'checkpoint', offset: stop, digest: hasher.digest('hex') });
          hasher.load(state);
        }
      }
      this.#hashedTo = target;
      if (target === this.#size) {
        this.#hasher = undefined;
        this.#report({ type: 'hashed', digest: hasher.digest('hex') });
      }
      this.#window = { start, bytes };
      return bytes.subarray(0, end - start);
    }
    const w = this.#window;
    if (w && w.start <= start && end <= w.start + w.bytes.length) {
      return w.bytes.subarray(start - w.start, end - w.start);
    }
    return this.#readExactly(start, end);
  }

  async #readExactly(start: number, end: number): Promise<Uint8Array<ArrayBuffer>> {
    const bytes = await this.#read(start, end);
    if (bytes.length !== end - start)
      throw new FerryError('CONTENT_CHANGED', 'The file changed size while it was being sent.');
    return bytes;
  }
}
