/**
 * The owner of the encrypt worker: open a file with its key and nonce base, then ask for
 * ciphertext ranges as promises. Ciphertext is deterministic (same key, nonce base, record
 * size and plaintext give the same bytes), which is what lets a tus upload resume anywhere.
 */
import { FerryError } from '../../../../shared/errors.ts';
import { type EncryptEvent, type EncryptRequest, parseEncryptEvent } from './encrypt-messages.ts';

export interface OpenFile {
  file: Blob;
  key: CryptoKey;
  nonceBase: Uint8Array;
  recordSize: number;
  /** For error messages. */
  name: string;
}

export class Encryptor {
  #worker: Worker | undefined;
  #jobs = new Map<number, { resolve: (bytes: Uint8Array<ArrayBuffer>) => void; reject: (e: FerryError) => void }>();
  #nextJob = 0;
  #nextFile = 0;

  /** Registers a file with the worker; the returned id names it in `range`. */
  open(file: OpenFile): number {
    const fileId = this.#nextFile++;
    this.#post({ type: 'open', fileId, ...file });
    return fileId;
  }

  /** Ciphertext bytes [start, end) of an open file. */
  range(fileId: number, start: number, end: number): Promise<Uint8Array<ArrayBuffer>> {
    const job = this.#nextJob++;
    return new Promise((resolve, reject) => {
      this.#jobs.set(job, { resolve, reject });
      this.#post({ type: 'range', job, fileId, start, end });
    });
  }

  close(fileId: number): void {
    this.#worker?.postMessage({ type: 'close', fileId } satisfies EncryptRequest);
  }

  /** Stops the worker; pending ranges fail with ABORTED. */
  terminate(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const job of this.#jobs.values()) job.reject(new FerryError('ABORTED', 'Encryption was stopped.'));
    this.#jobs.clear();
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
    const job = this.#jobs.get(event.job);
    if (!job) return;
    this.#jobs.delete(event.job);
    if (event.type === 'range') job.resolve(new Uint8Array(event.bytes));
    else job.reject(new FerryError(event.code, event.message));
  }
}
