/**
 * BlobStore: where ciphertext lives. It hands tus its DataStore and reads uploads back by
 * byte range, finished or still running. FileBlobStore: @tus/file-store under data/files
 * (one file plus one .json info file per upload, which is what lets an upload resume after
 * a restart). S3BlobStore (s3-blob-store.ts): an S3 bucket, for any number of nodes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileStore } from '@tus/file-store';
import { type DataStore, ERRORS, type Upload } from '@tus/server';
import { isOutOfSpace, type Space, spaceOf, storageFull } from '../storage-full.ts';

/**
 * The length a request declared for the body a `DataStore.write` is reading (its
 * Content-Length), set by tus.ts around each request that has one: tus hands the store the
 * body as a stream without it. A store may use it to start storing before the body is all
 * there (S3BlobStore streams each piece's PutObject); the body can still end short of it.
 */
export const requestBodyBytes = new AsyncLocalStorage<number>();

export interface BlobStore {
  /** What @tus/server writes uploads into. */
  readonly datastore: DataStore;
  /**
   * Bytes [start, end] (inclusive, as in HTTP ranges) of a blob. Every byte `size` counts is
   * readable at once, while the upload continues and from any node (download while
   * uploading and the relay fallback read running uploads).
   */
  read(id: string, start: number, end: number): Readable;
  /** Bytes stored so far (the tus offset); undefined when the upload does not exist. */
  size(id: string): Promise<number | undefined>;
  /**
   * Marks an upload complete in the store itself, so that neither expiry of unfinished
   * uploads nor tus HEAD's expiry check ever applies to it. Idempotent.
   */
  seal(id: string): Promise<void>;
  /** Deletes an upload and its info; a missing upload is not an error. */
  remove(id: string): Promise<void>;
  /** Ids of every upload the store holds. */
  list(): Promise<string[]>;
  /** Removes unfinished uploads past their expiry (tus expiration extension). */
  removeExpired(): Promise<number>;
  /** Free and total bytes where uploads are stored; undefined where the store cannot tell. */
  space(): Promise<Space | undefined>;
  /** Resolves when a new object can be written (and is removed again); rejects with why not. */
  checkWritable(): Promise<void>;
  /** Releases what the store holds open (S3 connections); none for files. */
  close?(): void;
}

/** The file of upload `id` in `directory`. */
function fileOf(directory: string, id: string): string {
  // Ids come from our naming function (base64url), but never trust a path built from input.
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(id)) throw new RangeError('not a blob id');
  return path.join(directory, id);
}

/** Written and removed by checkWritable (not an upload id: those never contain a dot). */
const PROBE_NAME = '.write-probe';

/**
 * @tus/file-store, except that a failed write keeps its reason: FileStore.write turns every
 * error into FILE_WRITE_ERROR (500), so a full disk could not be told from a fault (unless
 * the raw error happened to win the race out of tus's own pipeline). This is the same
 * pipeline, with "no room" errors answered as STORAGE_FULL.
 */
class FerryFileStore extends FileStore {
  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(readable, counter, createWriteStream(fileOf(this.directory, id), { flags: 'r+', start: offset }));
    } catch (error) {
      if (isOutOfSpace(error)) throw storageFull(error);
      throw ERRORS.FILE_WRITE_ERROR;
    }
    return offset + received;
  }
}

/**
 * @tus/file-store's constructor makes its directory with an async fs.mkdir whose callback
 * throws: an error there is an uncaught exception of the whole process, at a moment nobody
 * awaits (seen when a start-up that failed on Redis had its data directory removed before the
 * mkdir ran). Ferry makes the directory at once, so a failure is thrown by the constructor
 * where start-up can answer it. (The method is private in tus's types, hence defineProperty.)
 */
Object.defineProperty(FerryFileStore.prototype, 'checkOrCreateDirectory', {
  value(this: FileStore) {
    mkdirSync(this.directory, { recursive: true });
  },
});

export class FileBlobStore implements BlobStore {
  readonly datastore: FileStore;
  readonly #directory: string;

  constructor(directory: string, expiryMs: number) {
    this.#directory = path.resolve(directory);
    this.datastore = new FerryFileStore({ directory: this.#directory, expirationPeriodInMilliseconds: expiryMs });
  }

  #file(id: string): string {
    return fileOf(this.#directory, id);
  }

  read(id: string, start: number, end: number): Readable {
    return createReadStream(this.#file(id), { start, end });
  }

  async size(id: string): Promise<number | undefined> {
    try {
      return (await stat(this.#file(id))).size;
    } catch {
      return undefined;
    }
  }

  async seal(id: string): Promise<void> {
    // @tus/file-store's deleteExpired() compares size with the offset saved in the .json
    // at creation (always 0), so it would delete finished uploads too: saving the final
    // offset makes it treat the upload as complete. And @tus/server's HEAD answers "gone"
    // for any upload older than the expiry, finished or not: dropping creation_date exempts
    // a sealed upload (a sender resuming a share a day later sees it complete). Idempotent.
    const info = await this.datastore.configstore.get(id);
    if (!info || info.size === undefined) return;
    if (info.offset === info.size && !('creation_date' in info)) return;
    const { creation_date: _, ...sealed } = info;
    await this.datastore.configstore.set(id, { ...sealed, offset: info.size } as Upload);
  }
  async remove(id: string): Promise<void> {
    try {
      await this.datastore.remove(id);
    } catch {
      // FileStore throws FILE_NOT_FOUND when the data file is already gone; drop the info too.
      await this.datastore.configstore.delete(id).catch(() => undefined);
    }
  }

  async list(): Promise<string[]> {
    return (await this.datastore.configstore.list?.()) ?? [];
  }

  removeExpired(): Promise<number> {
    return this.datastore.deleteExpired();
  }

  space(): Promise<Space> {
    return spaceOf(this.#directory);
  }

  async checkWritable(): Promise<void> {
    const probe = path.join(this.#directory, PROBE_NAME);
    await writeFile(probe, 'x');
    await unlink(probe);
  }
}
