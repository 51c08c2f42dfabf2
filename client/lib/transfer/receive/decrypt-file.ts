/**
 * One file of a share, from the server's ciphertext to verified plaintext:
 *
 *   GET (Range on resume) → RecordOpener (shared/record-stream.ts) → verifyingStream → consumer
 *
 * Download while uploading: while the sender is still uploading, the server answers only
 * the bytes it has stored (206, `Content-Range: bytes a-b/*`) or 425 when nothing new is
 * stored yet. A piece that ends is then no failure: the next request starts from the first
 * record not yet received, at once when the piece brought new records, after WAIT_MS when
 * it did not (or after a 425). Each record still verifies on its own as it arrives; the
 * whole-file hash comes from the final manifest (`finalHash`, final-hash.ts).
 *
 * It runs the same in the receive worker and, where streams cannot be transferred, on the
 * page. Memory stays at about one record plus the stream queues whatever the file size.
 * A dropped connection resumes a little before the first record not yet received
 * (resume.ts), with the same ticket, so the server counts the bytes once
 * (ARCHITECTURE.md "Download limits").
 */
import { FerryError } from '../../../../shared/errors.ts';
import { type IncrementalHasher, verifyingStream } from '../../../../shared/file-hash.ts';
import { RecordOpener } from '../../../../shared/record-stream.ts';
import type { FileCipher } from '../../../../shared/records.ts';
import { fetchCiphertext } from '../../api/ciphertext.ts';
import { createBlake3 } from '../blake3.ts';
import type { FileFields } from './messages.ts';
import { backoffDelay, isRetryable, MAX_RESUME_ATTEMPTS, resumeOffset, rewindRecord } from './resume.ts';

/** Everything needed to fetch and open one file. */
export interface FileJob {
  shareId: string;
  index: number;
  readerToken: string;
  ticket: string;
  cipher: FileCipher;
  /** The manifest's hex BLAKE3 of the plaintext. */
  blake3: string | null;
  /** When `blake3` is null (the share was still uploading): reads it from the final manifest. */
  finalHash?: (() => Promise<string>) | undefined;
  /**
   * The first record to hand on (default 0): records before it are already in hand from an
   * earlier try (staging.ts), and the hasher `createHasher` gives has already seen them.
   */
  from?: number;
}

/**
 * The job for a file described by a worker message (receive worker or service worker):
 * both open records with this one pipeline. `finalHash` is needed when `blake3` is null.
 */
export function jobOf(file: FileFields, key: CryptoKey, finalHash?: () => Promise<string>): FileJob {
  const { shareId, index, readerToken, ticket, name, size, recordSize, nonceBase, blake3 } = file;
  return { shareId, index, readerToken, ticket, blake3, finalHash, cipher: { name, size, recordSize, nonceBase, key } };
}

/** Seams for tests: the network, the clock and the hasher. */
export interface DecryptDeps {
  fetchCiphertext: typeof fetchCiphertext;
  sleep: (ms: number) => Promise<void>;
  createHasher: () => Promise<IncrementalHasher>;
  now?: () => number;
}

/** Pause before asking again for bytes the sender has not uploaded yet. */
export const WAIT_MS = 500;
/** Waiting this long for the sender without a single new record fails the file. */
export const STALL_MS = 10 * 60 * 1000;

/** The server as the source, real timers and hash-wasm's BLAKE3. */
export const DECRYPT_DEPS: DecryptDeps = {
  fetchCiphertext,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  createHasher: createBlake3,
};

/** The plaintext stream and a promise that settles when the file is verified or has failed. */
export interface DecryptedFile {
  stream: ReadableStream<Uint8Array>;
  result: Promise<void>;
}

/** Starts nothing until the stream is first read; then fetches, decrypts and verifies. */
export function decryptFile(job: FileJob, deps: DecryptDeps = DECRYPT_DEPS): DecryptedFile {
  const { cipher } = job;
  const opener = new RecordOpener(cipher);
  const abort = new AbortController();
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  let failures = 0;
  const now = deps.now ?? (() => Date.now());
  /** The current response is a prefix of a file still being uploaded (`…/*`). */
  let growing = false;
  /** The next record to hand on; records before it that arrive again are dropped. */
  let delivered = job.from ?? 0;
  /** `delivered` when the current response started. */
  let deliveredAtStart = delivered;
  /**
   * The last response broke off: start the next one a little earlier (resume.ts). So does
   * a later try's first one: the server may have lost the end of the earlier try's coverage.
   */
  let rewind = delivered > 0;
  let lastRecordAt = now();
  let settle: { resolve: () => void; reject: (e: unknown) => void } = { resolve: () => {}, reject: () => {} };
  const result = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // A caller that only watches the stream must not see an unhandled rejection.
  result.catch(() => {});

  /** Opens (or reopens, record-aligned) the ciphertext response. */
  async function connect(): Promise<ReadableStreamDefaultReader<Uint8Array>> {
    opener.restart(rewind ? rewindRecord(cipher, delivered) : delivered);
    rewind = false;
    deliveredAtStart = delivered;
    const start = resumeOffset(cipher, opener.nextIndex);
    const auth = { readerToken: job.readerToken, ticket: job.ticket };
    const response = await deps.fetchCiphertext(job.shareId, job.index, auth, start, undefined, abort.signal);
    growing = response.headers.get('Content-Range')?.endsWith('/*') ?? false;
    if (!response.body) throw new FerryError('NETWORK_ERROR', `${cipher.name}: the server sent no data.`);
    return response.body.getReader();
  }

  /** Next batch of network bytes, reconnecting with backoff when the connection drops. */
  async function readSome(): Promise<Uint8Array> {
    for (;;) {
      try {
        reader ??= await connect();
        const { done, value } = await reader.read();
        if (!done) return value;
        if (growing) {
          // All the sender had uploaded so far: ask for more, pausing if this piece
          // brought no whole record (it would only send the same partial record again).
          reader = null;
          if (delivered === deliveredAtStart) await waitForSender();
          continue;
        }
        // The server ended the body early: treat like a dropped connection.
        throw new FerryError('NETWORK_ERROR', `${cipher.name}: the download ended early.`);
      } catch (error) {
        reader = null;
        if (abort.signal.aborted) throw new FerryError('ABORTED', 'Cancelled.', { cause: error });
        if (error instanceof FerryError && error.code === 'FILE_NOT_READY') {
          await waitForSender();
          continue;
        }
        failures++;
        if (!isRetryable(error) || failures > MAX_RESUME_ATTEMPTS) throw error;
        rewind = true;
        await deps.sleep(backoffDelay(failures));
      }
    }
  }

  /** One pause while the sender uploads more; fails once it has stalled for STALL_MS. */
  async function waitForSender(): Promise<void> {
    if (now() - lastRecordAt > STALL_MS) {
      throw new FerryError('FILE_NOT_READY', `${cipher.name}: the sender has stopped uploading; try again later.`);
    }
    await deps.sleep(WAIT_MS);
    if (abort.signal.aborted) throw new FerryError('ABORTED', 'Cancelled.');
  }

  const records = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          while (!opener.done) {
            const opened = await opener.push(await readSome());
            let handed = false;
            for (const { index, plain } of opened) {
              if (index < delivered) continue; // re-fetched after a rewind: already handed on
              controller.enqueue(plain);
              delivered = index + 1;
              handed = true;
              failures = 0;
              lastRecordAt = now();
            }
            if (handed) break;
          }
          if (opener.done) {
            await reader?.cancel().catch(() => {});
            controller.close();
          }
        } catch (error) {
          const failure = asFerryError(error, cipher.name);
          settle.reject(failure);
          controller.error(failure);
        }
      },
      cancel(reason) {
        abort.abort(reason);
        settle.reject(new FerryError('ABORTED', `${cipher.name}: download cancelled.`, { cause: reason }));
        return reader?.cancel(reason).catch(() => {});
      },
    },
    // No read-ahead beyond the record being produced: memory stays flat.
    { highWaterMark: 0 },
  );

  const expected = job.blake3 ?? job.finalHash;
  if (expected === undefined) {
    const failure = new FerryError('FILE_HASH_MISMATCH', `${cipher.name} failed verification: it has no hash yet.`);
    settle.reject(failure);
    return { stream: new ReadableStream({ start: (c) => c.error(failure) }), result };
  }
  const verifier = verifyingStream(deps.createHasher(), expected, cipher.name, (failure) =>
    failure ? settle.reject(failure) : settle.resolve(),
  );
  return { stream: records.pipeThrough(verifier), result };
}

/** Keeps FerryErrors (they name the file and record); wraps anything else. */
function asFerryError(error: unknown, name: string): FerryError {
  if (error instanceof FerryError) return error;
  return new FerryError('NETWORK_ERROR', `${name}: the download failed.`, { cause: error });
}
