/**
 * A RecordSink over any FileStore: opens each record (record-aead.ts `openSealedRecords`,
 * over the AES-GCM its adapter chose: WebCrypto by default, node:crypto in the command),
 * writes its plaintext at its offset, hashes the file as it lands (BLAKE3, hash-wasm) and,
 * after the last record, compares the hash (file-hash.ts) before the store may keep the file
 * (`finish`). Work runs one step at a time in arrival order; the records of one frame are
 * opened together (WebCrypto works off the thread). Used by the engine's tests over memory,
 * by the ferry command over files (cli/direct/part-file-store.ts) and by the app's OPFS
 * writer worker (client/lib/p2p/opfs-store.ts); every store passes
 * file-store.conformance.ts.
 */
import { createBLAKE3, type IHasher } from 'hash-wasm';
import { FerryError } from '../errors.ts';
import { checkDigest } from '../file-hash.ts';
import { openSealedRecords, type RecordAead, WEB_CRYPTO_AEAD } from '../record-aead.ts';
import { type FileCipher, plainRange, recordCount } from '../records.ts';
import type { RecordSink, SinkEvents } from './record-sink.ts';

/** One file being stored. */
export interface StoredFile {
  /** Writes `bytes` at plaintext offset `at`. */
  write(bytes: Uint8Array, at: number): Promise<void>;
  /** Every record is verified and the BLAKE3 matched: keep the file (flush, close, move into place). */
  finish(): Promise<void>;
  /** The file will not be whole: close it and delete what was written. */
  discard(): Promise<void>;
}

/** Where a VerifyingSink keeps files. */
export interface FileStore {
  /** Creates (or empties) the place for file `file`. */
  create(file: number, cipher: FileCipher): Promise<StoredFile>;
}

interface Entry {
  cipher: FileCipher;
  blake3: string;
  stored: StoredFile | null;
  hasher: IHasher | null;
  /** The next record expected; [0, next) are verified and stored. */
  next: number;
  whole: boolean;
  resolve: () => void;
  reject: (error: FerryError) => void;
}

export class VerifyingSink implements RecordSink {
  readonly #store: FileStore;
  readonly #events: SinkEvents;
  readonly #aead: RecordAead;
  readonly #files = new Map<number, Entry>();
  #queue: Promise<void> = Promise.resolve();
  #failure: FerryError | null = null;

  constructor(store: FileStore, events: SinkEvents, aead: RecordAead = WEB_CRYPTO_AEAD) {
    this.#store = store;
    this.#events = events;
    this.#aead = aead;
  }

  open(file: number, cipher: FileCipher, blake3: string): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.#files.set(file, { cipher, blake3, stored: null, hasher: null, next: 0, whole: false, resolve, reject });
    });
    done.catch(() => {});
    if (this.#failure) this.#files.get(file)!.reject(this.#failure);
    this.#enqueue(async () => {
      const entry = this.#files.get(file)!;
      entry.stored = await this.#store.create(file, cipher);
      entry.hasher = (await createBLAKE3()).init();
    });
    return done;
  }

  write(file: number, first: number, records: readonly Uint8Array<ArrayBuffer>[]): void {
    this.#enqueue(() => this.#write(file, first, records));
  }

  sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#enqueue(() => {});
      void this.#queue.then(() => (this.#failure ? reject(this.#failure) : resolve()));
    });
  }

  async close(discard: boolean): Promise<void> {
    await this.#queue;
    if (!discard) return;
    for (const entry of this.#files.values()) {
      if (!entry.whole) await entry.stored?.discard().catch(() => {});
    }
  }

  async #write(file: number, first: number, records: readonly Uint8Array<ArrayBuffer>[]): Promise<void> {
    const entry = this.#files.get(file);
    if (!entry?.stored || !entry.hasher) {
      throw new FerryError('INVALID_MESSAGE', `A record arrived for file ${file}, which is not open.`);
    }
    const { cipher } = entry;
    if (first !== entry.next) {
      throw new FerryError('RECORD_TRUNCATED', `${cipher.name}: record ${first} arrived out of order.`);
    }
    const plains = await openSealedRecords(this.#aead, cipher, first, records);
    for (const [i, plain] of plains.entries()) {
      await entry.stored.write(plain, plainRange(cipher, first + i)[0]).catch((error: unknown) => {
        throw error instanceof FerryError
          ? error
          : new FerryError('STORAGE_FAILED', `${cipher.name} could not be stored (${String(error)}).`, {
              cause: error,
            });
      });
      entry.hasher.update(plain);
      entry.next++;
    }
    this.#events.verified(file, entry.next);
    if (entry.next < recordCount(cipher)) return;
    checkDigest(entry.hasher, entry.blake3, cipher.name);
    await entry.stored.finish();
    entry.whole = true;
    entry.resolve();
  }

  /** Runs `work` after everything queued, unless the sink failed; the first error fails it. */
  #enqueue(work: () => Promise<void> | void): void {
    this.#queue = this.#queue
      .then(() => (this.#failure ? undefined : work()))
      .catch((error: unknown) => this.#fail(error));
  }

  #fail(error: unknown): void {
    if (this.#failure) return;
    const failure =
      error instanceof FerryError
        ? error
        : new FerryError('STORAGE_FAILED', `The file could not be stored (${String(error)}).`, { cause: error });
    this.#failure = failure;
    for (const entry of this.#files.values()) if (!entry.whole) entry.reject(failure);
    this.#events.failed(failure);
  }
}
