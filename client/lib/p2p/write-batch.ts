/**
 * Consecutive plaintext records gathered for one FileSystemSyncAccessHandle.write. In
 * Chromium each write costs a round trip to the browser process whatever its size: 64 KiB
 * writes (one per record) ran at about 30 MB/s and cost 23 CPU-seconds per GB across the
 * processes, 1-2 MiB writes 8-10 (bench, 512 MiB from a worker). So the OPFS store
 * (opfs-store.ts) writes records in batches of WRITE_BATCH_BYTES.
 */

/** Plaintext written to OPFS at once, at most (one record more when a record is larger). */
export const WRITE_BATCH_BYTES = 2 * 1024 * 1024;

/** The part of FileSystemSyncAccessHandle a batch writes to. */
export interface WriteTarget {
  /** Writes at offset `at`; answers how many bytes it wrote (possibly fewer). */
  write(buffer: Uint8Array, options: { at: number }): number;
}

/**
 * A write that took no bytes, or answered a count it cannot have written: the storage is
 * full. Chromium 156's FileSystemSyncAccessHandle.write does not throw when the origin's
 * quota is used up: it writes what fits and answers 4294967288, its FILE_ERROR_NO_SPACE (−8)
 * as an unsigned 32-bit number (seen with DevTools' Storage.overrideQuotaForOrigin,
 * e2e/opfs-store.spec.ts), which a loop adding up counts would take for success.
 */
export class WriteRefused extends Error {}

export class WriteBatch {
  readonly #buffer: Uint8Array<ArrayBuffer>;
  /** File offset of the buffer's first byte. */
  #start = 0;
  #length = 0;

  /** A batch for a file of `fileSize` bytes cut into records of `recordSize`. */
  constructor(fileSize: number, recordSize: number) {
    this.#buffer = new Uint8Array(Math.min(fileSize, Math.max(WRITE_BATCH_BYTES, recordSize)));
  }

  /** Bytes gathered and not yet written. */
  get length(): number {
    return this.#length;
  }

  /** Whether it has gathered enough to be written now. */
  get full(): boolean {
    return this.#length >= Math.min(WRITE_BATCH_BYTES, this.#buffer.length);
  }

  /** Whether `bytes` more fit before the batch must be written. */
  fits(bytes: number): boolean {
    return this.#length + bytes <= this.#buffer.length;
  }

  /** Adds `plain`, which belongs at file offset `at`: right after what is gathered, or anywhere when empty. */
  add(at: number, plain: Uint8Array): void {
    if (this.#length === 0) this.#start = at;
    else if (at !== this.#start + this.#length) throw new RangeError(`bytes at ${at} do not follow the batch`);
    if (!this.fits(plain.length)) throw new RangeError(`${plain.length} bytes do not fit the batch`);
    this.#buffer.set(plain, this.#length);
    this.#length += plain.length;
  }

  /**
   * Writes everything gathered to `target` and empties the batch. Answers the bytes written,
   * a view that stays valid until the next `add`.
   */
  writeTo(target: WriteTarget): Uint8Array<ArrayBuffer> {
    const bytes = this.#buffer.subarray(0, this.#length);
    writeFully(target, bytes, this.#start);
    this.#start += this.#length;
    this.#length = 0;
    return bytes;
  }
}

/**
 * Writes all of `bytes` at file offset `at`, write after write, trusting no count a write
 * could not have written; throws WriteRefused when the file takes no more (a full quota).
 */
export function writeFully(target: WriteTarget, bytes: Uint8Array, at: number): void {
  let written = 0;
  while (written < bytes.length) {
    const n = target.write(bytes.subarray(written), { at: at + written });
    if (!(n > 0 && n <= bytes.length - written)) {
      throw new WriteRefused(n > 0 ? `the file answered ${n} bytes written` : 'the file took no bytes');
    }
    written += n;
  }
}
