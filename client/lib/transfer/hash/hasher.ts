/**
 * The owner of the BLAKE3 worker. Jobs run one after another (the worker keeps a single
 * incremental hasher), each answered by a promise; checkpoints and progress arrive through
 * callbacks while the job runs. The receive side uses the same class to verify files.
 */
import { FerryError } from '../../../../shared/errors.ts';
import { type HashEvent, type HashRequest, parseHashEvent } from './messages.ts';

export interface HashOptions {
  /** Report a prefix digest every this many bytes (default: never). */
  checkpointEvery?: number;
  /** Hash only bytes [0, end) (default: the whole file). */
  end?: number;
  onCheckpoint?: (offset: number, digest: string) => void;
  onProgress?: (offset: number) => void;
}

interface Job {
  resolve: (digest: string) => void;
  reject: (error: FerryError) => void;
  options: HashOptions;
}

export class Hasher {
  #worker: Worker | undefined;
  #jobs = new Map<number, Job>();
  #nextJob = 0;
  /** Serialises jobs: the worker owns one hasher state. */
  #queue: Promise<unknown> = Promise.resolve();

  /** Hex BLAKE3 of `file` (or of its first `options.end` bytes). */
  hash(file: Blob, options: HashOptions = {}): Promise<string> {
    const run = this.#queue.then(() => this.#run(file, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Stops the current job and fails the queued ones with ABORTED. */
  abort(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const job of this.#jobs.values()) job.reject(new FerryError('ABORTED', 'Hashing was stopped.'));
    this.#jobs.clear();
  }

  #run(file: Blob, options: HashOptions): Promise<string> {
    const job = this.#nextJob++;
    const end = Math.min(file.size, options.end ?? file.size);
    return new Promise<string>((resolve, reject) => {
      this.#jobs.set(job, { resolve, reject, options });
      const request: HashRequest = { type: 'hash', job, file, end, checkpointEvery: options.checkpointEvery ?? 0 };
      this.#ensureWorker().postMessage(request);
    });
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./hash.worker.ts', import.meta.url), { type: 'module', name: 'ferry-hash' });
    worker.onmessage = (message: MessageEvent<unknown>) => {
      const event = parseHashEvent(message.data);
      if (event) this.#onEvent(event);
    };
    worker.onerror = (error) => {
      error.preventDefault();
      this.abort();
    };
    this.#worker = worker;
    return worker;
  }

  #onEvent(event: HashEvent): void {
    const job = this.#jobs.get(event.job);
    if (!job) return;
    switch (event.type) {
      case 'progress':
        job.options.onProgress?.(event.offset);
        return;
      case 'checkpoint':
        job.options.onCheckpoint?.(event.offset, event.digest);
        return;
      case 'done':
        this.#jobs.delete(event.job);
        job.options.onCheckpoint?.(event.offset, event.digest);
        job.resolve(event.digest);
        return;
      case 'error':
        this.#jobs.delete(event.job);
        job.reject(new FerryError(event.code, event.message));
        return;
    }
  }
}
