/**
 * The owner of the receive worker. `open()` answers a file's verified plaintext stream and a
 * promise for its verdict. Where a browser cannot transfer streams between threads, the
 * same pipeline runs on the page instead: slower for the UI, identical in what it checks.
 */
import { FerryError } from '../../../../shared/errors.ts';
import type { ManifestFile } from '../../../../shared/manifest.ts';
import { fileCipher } from '../../../../shared/manifest.ts';
import type { FileCipher } from '../../../../shared/records.ts';
import { DECRYPT_DEPS, type DecryptDeps, type DecryptedFile, decryptFile } from './decrypt-file.ts';
import { waitForFinalHash } from './final-hash.ts';
import { parseReceiveEvent, type ReceiveEvent, type ReceiveRequest, type WorkerFile } from './messages.ts';

/** Where a file comes from: the share, its index and the ticket of this download. */
export interface FileSource {
  shareId: string;
  index: number;
  readerToken: string;
  ticket: string;
  file: ManifestFile;
  contentKey: CryptoKey;
  /** Given while the share is still uploading: the final manifest gives the file's hash. */
  metaKey?: CryptoKey | undefined;
}

interface Pending {
  stream: (stream: ReadableStream<Uint8Array>) => void;
  verdict: { resolve: () => void; reject: (error: FerryError) => void };
}

/** True when this browser can postMessage a ReadableStream (Chromium 87+, Firefox 103+). */
export function canTransferStreams(): boolean {
  try {
    const stream = new ReadableStream();
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(stream, [stream as unknown as Transferable]);
    port1.close();
    port2.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * What a worker needs to fetch, decrypt and verify `source` (receive.worker.ts,
 * stage.worker.ts), given its opened cipher: the meta key only while its hash is unknown.
 */
export function workerFile(source: FileSource, cipher: FileCipher): WorkerFile {
  const { shareId, index, readerToken, ticket, file: entry } = source;
  return {
    shareId,
    index,
    readerToken,
    ticket,
    name: cipher.name,
    size: cipher.size,
    recordSize: cipher.recordSize,
    nonceBase: new Uint8Array(cipher.nonceBase),
    key: cipher.key,
    blake3: entry.blake3,
    metaKey: entry.blake3 === null ? (source.metaKey ?? null) : null,
  };
}

export class Decryptor {
  #worker: Worker | undefined;
  #jobs = new Map<number, Pending>();
  #nextJob = 0;
  readonly #useWorker = typeof Worker !== 'undefined' && canTransferStreams();

  /**
   * Starts fetching one file; nothing is downloaded until the stream is read. `fetch`
   * replaces the server as the ciphertext source (a pull from the sender's tab, whose data
   * channel lives on the page): the pipeline then runs on the page, checking the same way.
   */
  async open(source: FileSource, fetch?: DecryptDeps['fetchCiphertext']): Promise<DecryptedFile> {
    const cipher = await fileCipher(source.file, source.contentKey);
    const { shareId, index, readerToken, ticket, file: entry } = source;
    const metaKey = entry.blake3 === null ? (source.metaKey ?? null) : null;
    if (!this.#useWorker || fetch) {
      const finalHash =
        metaKey === null
          ? undefined
          : () => waitForFinalHash({ shareId, index, readerToken, metaKey, file: { ...entry, name: cipher.name } });
      const job = { shareId, index, readerToken, ticket, cipher, blake3: entry.blake3, finalHash };
      return fetch ? decryptFile(job, { ...DECRYPT_DEPS, fetchCiphertext: fetch }) : decryptFile(job);
    }
    const file = workerFile(source, cipher);
    const job = this.#nextJob++;
    const stream = deferred<ReadableStream<Uint8Array>>();
    const verdict = deferred<void>();
    verdict.promise.catch(() => {});
    this.#jobs.set(job, { stream: stream.resolve, verdict });
    const request: ReceiveRequest = { type: 'open', job, file };
    this.#ensureWorker().postMessage(request);
    return { stream: await Promise.race([stream.promise, verdict.promise.then(never)]), result: verdict.promise };
  }

  /** Stops the worker; open files fail with ABORTED. */
  dispose(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const job of this.#jobs.values()) job.verdict.reject(new FerryError('ABORTED', 'Download stopped.'));
    this.#jobs.clear();
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./receive.worker.ts', import.meta.url), {
      type: 'module',
      name: 'ferry-receive',
    });
    worker.onmessage = (message: MessageEvent<unknown>) => {
      const event = parseReceiveEvent(message.data);
      if (event) this.#onEvent(event);
    };
    worker.onerror = (error) => {
      error.preventDefault();
      this.dispose();
    };
    this.#worker = worker;
    return worker;
  }

  #onEvent(event: ReceiveEvent): void {
    const job = this.#jobs.get(event.job);
    if (!job) return;
    switch (event.type) {
      case 'stream':
        job.stream(event.stream);
        return;
      case 'verified':
        this.#jobs.delete(event.job);
        job.verdict.resolve();
        return;
      case 'failed':
        this.#jobs.delete(event.job);
        job.verdict.reject(new FerryError(event.code, event.message));
    }
  }
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: FerryError) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** For a race in which only a rejection of this side matters. */
function never(): Promise<never> {
  return new Promise(() => {});
}
