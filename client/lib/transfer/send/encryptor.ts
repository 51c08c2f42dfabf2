/**
 * The owner of the encrypt worker: open a file with its key and nonce base, then ask for
 * ciphertext ranges as promises. Ciphertext is deterministic (same key, nonce base, record
 * size and plaintext give the same bytes), which is what lets a tus upload resume anywhere.
 * A file opened with `checkpointEvery` is also hashed by the worker as it is read in order
 * (plain-reader.ts); its news arrive through `onHash`.
 */
import { FerryError } from '../../../../shared/errors.ts';
import { weighBlob } from './blob-gc.ts';
import { type EncryptEvent, type EncryptRequest, parseEncryptEvent } from './encrypt-messages.ts';
import type { HashNews } from './plain-reader.ts';

export interface OpenFile {
  file: Blob;
  key: CryptoKey;
  nonceBase: Uint8Array;
  recordSize: number;
  /** For error messages. */
  name: string;
  /** Hash the plaintext in the worker, with a prefix digest every this many bytes. */
  checkpointEvery?: number;
  onHash?: (news: HashNews) => void;
}

interface Job {
  resolve: (parts: Uint8Array<ArrayBuffer>[]) => void;
  reject: (e: unknown) => void;
  fileId: number;
  beforeEncrypt?: (plainEnd: number) => Promise<void>;
}

export class Encryptor {
  #worker: Worker | undefined;
  #jobs = new Map<number, Job>();
  #hashNews = new Map<number, (news: HashNews) => void>();
  #nextJob = 0;
  #nextFile = 0;

  /** Registers a file with the worker; the returned id names it in `range`. */
  open({ onHash, checkpointEvery, ...file }: OpenFile): number {
    const fileId = this.#nextFile++;
    if (onHash) this.#hashNews.set(fileId, onHash);
    this.#post({ type: 'open', fileId, ...file, checkpointEvery: onHash ? (checkpointEvery ?? 0) : 0 });
    return fileId;
  }

  /**
   * Ciphertext bytes [start, end) of an open file, as a Blob (what tus sends). The worker
   * reads the plaintext [0, plainEnd) needs, then seals it only once
   * `beforeEncrypt(plainEnd)` has resolved.
   */
  async range(
    fileId: number,
    start: number,
    end: number,
    beforeEncrypt?: (plainEnd: number) => Promise<void>,
  ): Promise<Blob> {
    // Made here, not in the worker: the buffers, now this thread's, drive the GC that frees
    // spent Blobs (encrypt-messages.ts), and so does weighBlob (blob-gc.ts).
    const blob = new Blob(await this.records(fileId, start, end, beforeEncrypt));
    weighBlob(blob.size);
    return blob;
  }

  /**
   * Ciphertext bytes [start, end) as the sealed records themselves, in order, the first and
   * last trimmed to the range: a range of whole records gives one array per record.
   */
  records(
    fileId: number,
    start: number,
    end: number,
    beforeEncrypt?: (plainEnd: number) => Promise<void>,
  ): Promise<Uint8Array<ArrayBuffer>[]> {
    const job = this.#nextJob++;
    return new Promise((resolve, reject) => {
      this.#jobs.set(job, { resolve, reject, fileId, beforeEncrypt });
      this.#post({ type: 'range', job, fileId, start, end });
    });
  }

  close(fileId: number): void {
    this.#hashNews.delete(fileId);
    this.#worker?.postMessage({ type: 'close', fileId } satisfies EncryptRequest);
  }

  /** Stops the worker; pending ranges fail with ABORTED. */
  terminate(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const job of this.#jobs.values()) job.reject(new FerryError('ABORTED', 'Encryption was stopped.'));
    this.#jobs.clear();
    // Their runs end too: prepareRun's close() settles what they were hashing.
    this.#hashNews.clear();
  }

  #post(request: EncryptRequest): void {
    if (!this.#worker) {
      const worker = new Worker(new URL('./encrypt.worker.ts', import.meta.url), {
        type: 'module',
        name: 'ferry-encrypt',
      });
      worker.onmessage = (message: MessageEvent<unknown>) => {
        const event = parseEncryptEvent(message.data);
        if (event) this.#onEvent(event);
      };
      worker.onerror = (error) => {
        error.preventDefault();
        this.terminate();
      };
      this.#worker = worker;
    }
    this.#worker.postMessage(request);
  }

  #onEvent(event: EncryptEvent): void {
    if (event.type === 'checkpoint' || event.type === 'hashed' || event.type === 'unhashed') {
      const { fileId, ...news } = event;
      this.#hashNews.get(fileId)?.(news);
      if (event.type !== 'checkpoint') this.#hashNews.delete(fileId);
      return;
    }
    const job = this.#jobs.get(event.job);
    if (!job) return;
    if (event.type === 'ready') {
      const worker = this.#worker;
      const answer = (type: 'go' | 'cancel') => {
        if (this.#worker === worker)
          worker?.postMessage({ type, job: event.job, fileId: job.fileId } satisfies EncryptRequest);
      };
      (job.beforeEncrypt?.(event.plainEnd) ?? Promise.resolve()).then(
        () => answer('go'),
        (error: unknown) => {
          answer('cancel');
          this.#jobs.delete(event.job);
          job.reject(error);
        },
      );
      return;
    }
    this.#jobs.delete(event.job);
    if (event.type === 'range') job.resolve(event.parts);
    else job.reject(new FerryError(event.code, event.message));
  }
}
