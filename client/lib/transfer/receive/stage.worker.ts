/**
 * The stage worker: fetches, decrypts and verifies one link file (decrypt-file.ts, the
 * receive worker's pipeline) into a file of the origin private file system, before the
 * browser's download starts (staging.ts says why). It writes through a
 * FileSystemSyncAccessHandle, which only dedicated workers may create (File System
 * Standard §"FileSystemSyncAccessHandle"; Safari has no createWritable in some versions).
 *
 * Invariant: the staged file only ever holds plaintext of records that were opened (each
 * AES-GCM tag checked) in order from record 0, and the last record only once the whole-file
 * BLAKE3 matched (verifyingStream holds it back). So a later try continues from the whole
 * records on disk: it hashes them again to seed the BLAKE3 and asks the server from the
 * first record missing, with Range, rewound as a resume is (decrypt-file.ts `from`).
 * Owned by `StagedFile` (staging.ts).
 */
/// <reference lib="webworker" />

import { toBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { recordCount } from '../../../../shared/records.ts';
import { STAGED_OPFS_DIR } from '../../p2p/opfs-dir.ts';
import { createBlake3 } from '../blake3.ts';
import { DECRYPT_DEPS, decryptFile, jobOf } from './decrypt-file.ts';
import { waitForFinalHash } from './final-hash.ts';
import { parseStageRequest, type StageEvent, type WorkerFile } from './messages.ts';

declare const self: DedicatedWorkerGlobalScope;

/** How often the page hears how far staging is. */
const PROGRESS_MS = 250;
/** The staged prefix is read back in pieces of this size to seed the hash. */
const READ_BYTES = 4 * 1024 * 1024;

/**
 * The part of FileSystemSyncAccessHandle used here. Safari before 16.4 answered promises
 * from these methods; every result is awaited, which costs nothing where they are sync.
 */
interface SyncHandle {
  read(buffer: Uint8Array, options: { at: number }): number | Promise<number>;
  write(buffer: Uint8Array, options: { at: number }): number | Promise<number>;
  getSize(): number | Promise<number>;
  truncate(size: number): void | Promise<void>;
  flush(): void | Promise<void>;
  close(): void | Promise<void>;
}

/** Stops the run in progress (its reader is cancelled), or nothing when none runs. */
let stop: () => void = () => {};

function post(event: StageEvent): void {
  self.postMessage(event);
}

self.onmessage = (message: MessageEvent<unknown>) => {
  const request = parseStageRequest(message.data);
  if (!request) return;
  if (request.type === 'stop') {
    stop();
    return;
  }
  stage(request.file, request.path).then(post, (error: unknown) => {
    const failure = asFailure(error, request.file.name);
    post({ type: 'failed', code: failure.code, message: failure.message });
  });
};

async function stage(file: WorkerFile, path: string): Promise<StageEvent> {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(STAGED_OPFS_DIR, { create: true });
  const fileHandle = await dir.getFileHandle(path, { create: true });
  const handle = await (
    fileHandle as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }
  ).createSyncAccessHandle();
  try {
    const from = Math.min(Math.floor((await handle.getSize()) / file.recordSize), recordCount(file) - 1);
    let at = from * file.recordSize;
    await handle.truncate(at);
    const hasher = await hashPrefix(handle, at);
    let blake3 = file.blake3;
    const { metaKey } = file;
    const finalHash =
      metaKey === null
        ? undefined
        : async () => {
            blake3 = await waitForFinalHash({
              shareId: file.shareId,
              index: file.index,
              readerToken: file.readerToken,
              metaKey,
              file: {
                name: file.name,
                size: file.size,
                recordSize: file.recordSize,
                nonce: toBase64Url(file.nonceBase),
              },
            });
            return blake3;
          };
    const job = { ...jobOf(file, file.key, finalHash), from };
    const decrypted = decryptFile(job, { ...DECRYPT_DEPS, createHasher: async () => hasher });
    const reader = decrypted.stream.getReader();
    stop = () => void reader.cancel(new FerryError('ABORTED', `${file.name}: download cancelled.`)).catch(() => {});
    post({ type: 'progress', bytes: at });
    let shown = performance.now();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await writeAll(handle, value, at);
      at += value.byteLength;
      if (performance.now() - shown >= PROGRESS_MS) {
        shown = performance.now();
        post({ type: 'progress', bytes: at });
      }
    }
    await decrypted.result;
    await handle.flush();
    if (at !== file.size || blake3 === null) {
      throw new FerryError('DOWNLOAD_INCOMPLETE', `${file.name}: ${at} of ${file.size} bytes were staged.`);
    }
    post({ type: 'progress', bytes: at });
    return { type: 'staged', blake3 };
  } finally {
    stop = () => {};
    await handle.close();
  }
}

/** A BLAKE3 hasher that has seen the first `size` bytes of the staged file. */
async function hashPrefix(handle: SyncHandle, size: number) {
  const hasher = await createBlake3();
  const buffer = new Uint8Array(Math.min(READ_BYTES, Math.max(size, 1)));
  for (let at = 0; at < size; ) {
    const n = await handle.read(buffer.subarray(0, Math.min(buffer.length, size - at)), { at });
    if (n <= 0) throw new FerryError('STORAGE_FAILED', 'The staged part of the file could not be read back.');
    hasher.update(buffer.subarray(0, n));
    at += n;
  }
  return hasher;
}

/**
 * Writes all of `bytes` at `at`, awaiting each write (Safari before 17 answered promises).
 * A count it could not have written is a refusal too: at a full quota Chromium's handle
 * writes what fits and answers 4294967288, an error code as an unsigned count
 * (write-batch.ts `writeFully` holds the same rule for the nearby writer).
 */
async function writeAll(handle: SyncHandle, bytes: Uint8Array, at: number): Promise<void> {
  for (let written = 0; written < bytes.byteLength; ) {
    const n = await handle.write(bytes.subarray(written), { at: at + written });
    if (!(n > 0 && n <= bytes.byteLength - written)) {
      throw new FerryError('STORAGE_FULL', 'This browser’s storage took no more bytes.');
    }
    written += n;
  }
}

/** The run's failure as a FerryError: the pipeline's own, a full disk, or storage that failed. */
function asFailure(error: unknown, name: string): FerryError {
  if (error instanceof FerryError) return error;
  if (error instanceof DOMException && error.name === 'QuotaExceededError') {
    return new FerryError('STORAGE_FULL', `${name} does not fit in this browser’s storage.`, { cause: error });
  }
  return new FerryError(
    'STORAGE_FAILED',
    `${name} could not be written to this browser’s storage (${String(error)}).`,
    {
      cause: error,
    },
  );
}
