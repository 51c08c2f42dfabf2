/**
 * The app's FileStore for the engine's VerifyingSink (shared/p2p/verifying-sink.ts): each
 * received file in the origin private file system, written through a
 * FileSystemSyncAccessHandle, which only dedicated workers may create (File System
 * Standard §"FileSystemSyncAccessHandle"), so it runs in the OPFS writer worker.
 *
 * Plaintext is written in batches of up to WRITE_BATCH_BYTES (write-batch.ts): each write
 * costs a round trip to the browser process. What a batch holds is flushed before a file
 * is kept, so a file that `finish`ed is whole on disk with its handle closed, and the page
 * (or the service worker) may read it. A quota the browser refuses to exceed is STORAGE_FULL.
 */
import { FerryError } from '../../../shared/errors.ts';
import type { FileStore, StoredFile } from '../../../shared/p2p/verifying-sink.ts';
import type { FileCipher } from '../../../shared/records.ts';
import { WriteBatch, WriteRefused } from './write-batch.ts';

/** The part of FileSystemSyncAccessHandle the store uses (synchronous, as in Chromium, Firefox and Safari 17+). */
export interface SyncHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  getSize(): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

export class OpfsFileStore implements FileStore {
  readonly #dir: () => Promise<FileSystemDirectoryHandle>;
  readonly #pathOf: (file: number) => string;

  /** Files go into the directory `dir` answers, file `i` named `pathOf(i)`. */
  constructor(dir: () => Promise<FileSystemDirectoryHandle>, pathOf: (file: number) => string) {
    this.#dir = dir;
    this.#pathOf = pathOf;
  }

  async create(file: number, cipher: FileCipher): Promise<StoredFile> {
    const dir = await this.#dir();
    const path = this.#pathOf(file);
    const entry = await dir.getFileHandle(path, { create: true });
    const handle = await storing(cipher, () =>
      (entry as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle(),
    );
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      handle.close();
    };
    try {
      handle.truncate(0);
    } catch (error) {
      close();
      throw storageError(cipher, error);
    }
    const batch = new WriteBatch(cipher.size, cipher.recordSize);
    const flushBatch = () => batch.writeTo(handle);
    return {
      write: (bytes, at) =>
        storing(cipher, () => {
          if (!batch.fits(bytes.length)) flushBatch();
          batch.add(at, bytes);
          if (batch.full) flushBatch();
        }),
      finish: () =>
        storing(cipher, () => {
          flushBatch();
          handle.flush();
          // What the writes answered is not trusted alone (write-batch.ts WriteRefused).
          const size = handle.getSize();
          close();
          if (size !== cipher.size) throw new WriteRefused(`${size} of ${cipher.size} bytes are stored`);
        }),
      discard: async () => {
        try {
          close();
        } catch {
          // A handle the browser already closed: the entry can still be removed.
        }
        await dir.removeEntry(path).catch(() => {});
      },
    };
  }
}

/** Runs a storage step of `cipher`'s file; whatever it throws becomes STORAGE_FULL or STORAGE_FAILED. */
async function storing<T>(cipher: FileCipher, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw storageError(cipher, error);
  }
}

/** A full quota (QuotaExceededError, or a write refused: WriteRefused) or any other failure of the storage. */
export function storageError(cipher: FileCipher, error: unknown): FerryError {
  if (error instanceof FerryError) return error;
  const full = error instanceof DOMException && error.name === 'QuotaExceededError';
  if (full || error instanceof WriteRefused) {
    return new FerryError('STORAGE_FULL', `${cipher.name} does not fit in this device’s storage.`, { cause: error });
  }
  return new FerryError(
    'STORAGE_FAILED',
    `${cipher.name} could not be written to this device’s storage (${String(error)}).`,
    { cause: error },
  );
}
