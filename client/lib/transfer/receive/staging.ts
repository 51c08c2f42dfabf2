/**
 * Staging a link's file in the origin private file system before the browser's download
 * starts, where the service worker would otherwise fetch it while the browser saves it
 * (Safari: the page cannot hand the worker a stream). WebKit writes such a download straight
 * to its final name and keeps the part it received when the body fails
 * (e2e/webkit/sw-download-cut.test.ts); nothing a worker does avoids it. So where OPFS works,
 * the stage worker (stage.worker.ts) fetches, decrypts and verifies every record and the
 * whole-file BLAKE3 into OPFS first; only then is the browser's download started, served by
 * the service worker from that file (`download-stored`, sw-stored.ts, which checks the
 * BLAKE3 again as it reads). A network that drops during staging leaves no download at all,
 * and the next try continues from the records already staged. "Download all" stages every
 * file so, one after another, and the service worker builds the ZIP from the staged files.
 *
 * Each staged file is held under a Web Lock named after it while its page uses it; a page
 * that loads removes the staged files nobody holds (left by a closed or crashed tab).
 */
import { toBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { STAGED_OPFS_DIR } from '../../p2p/opfs-dir.ts';
import { formatBytes } from './format.ts';
import { parseStageEvent, type StageRequest, type WorkerFile } from './messages.ts';

const LOCK_PREFIX = 'ferry-staged:';
const PROBE_NAME = '.probe';

interface Locks {
  request(name: string, callback: (lock: unknown) => Promise<void>): Promise<void>;
  request(name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => Promise<void>): Promise<void>;
}
const locks = (): Locks | undefined => (globalThis.navigator as { locks?: Locks } | undefined)?.locks;

async function directory(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(STAGED_OPFS_DIR, { create: true });
}

let probe: Promise<boolean> | undefined;

/**
 * Whether files can be staged here, found once by trying: open the folder, create a file
 * and remove it. WebKitGTK has no `navigator.storage`; a Firefox private window rejects
 * `getDirectory`; either keeps the service worker's own fetch (sw-fetch.ts).
 */
export function stagingAvailable(): Promise<boolean> {
  probe ??= (async () => {
    try {
      if (typeof Worker === 'undefined') return false;
      const dir = await directory();
      await dir.getFileHandle(PROBE_NAME, { create: true });
      await dir.removeEntry(PROBE_NAME);
      return true;
    } catch {
      return false;
    }
  })();
  return probe;
}

/**
 * Refuses before a byte is fetched when `bytes` more cannot fit in this origin's storage,
 * where the browser can say (`navigator.storage.estimate`); a browser that cannot say finds
 * out while writing (the stage worker fails with STORAGE_FULL then).
 */
export async function checkFreeSpace(name: string, bytes: number): Promise<void> {
  const estimate = await navigator.storage.estimate?.().catch(() => undefined);
  if (estimate?.quota === undefined || estimate.usage === undefined) return;
  const free = Math.max(0, estimate.quota - estimate.usage);
  if (bytes > free) {
    throw new FerryError(
      'STORAGE_FULL',
      `${name} needs ${formatBytes(bytes)} of this browser’s storage to be checked before it is saved, and ${formatBytes(free)} is free. Free some space and try again.`,
    );
  }
}

/** Removes the staged files that no open page holds (a tab closed or crashed while staging or saving). */
export async function removeStaleStaged(): Promise<void> {
  try {
    const lockManager = locks();
    // Without Web Locks a file in use by another tab cannot be told apart: leave them all.
    if (!lockManager || !(await stagingAvailable())) return;
    const dir = await directory();
    for await (const name of dir.keys()) {
      await lockManager.request(LOCK_PREFIX + name, { ifAvailable: true }, async (lock) => {
        if (lock) await dir.removeEntry(name).catch(() => {});
      });
    }
  } catch {
    // Nothing to clean, or storage went away: the next load tries again.
  }
}

/** One file being staged (and then saved) by this page; keeps what it staged across tries. */
export class StagedFile {
  /** Its name in the staged folder: a random id, then the file's index (messages.ts STORED_PATH). */
  readonly path: string;
  /** Plaintext bytes staged so far (verified records). */
  bytes = 0;
  #worker: Worker | null = null;
  #release: () => void = () => {};

  private constructor(index: number) {
    this.path = `${toBase64Url(crypto.getRandomValues(new Uint8Array(16)))}-${index}`;
  }

  /** A new staged file for file `index`, held under its lock before anything is written. */
  static async create(index: number): Promise<StagedFile> {
    const staged = new StagedFile(index);
    const lockManager = locks();
    if (lockManager) {
      await new Promise<void>((granted) => {
        void lockManager.request(
          LOCK_PREFIX + staged.path,
          () =>
            new Promise<void>((release) => {
              staged.#release = release;
              granted();
            }),
        );
      });
    }
    return staged;
  }

  /**
   * Stages `file` (its `key`, and `metaKey` when its hash is not known yet), continuing
   * from what an earlier call staged; `progress` hears the staged byte count. Answers the
   * BLAKE3 the whole file matched; rejects with the file's error (nothing of a later try
   * is lost: what is staged stays for the next call, until `remove`).
   */
  stage(file: WorkerFile, progress: (bytes: number) => void): Promise<string> {
    this.#worker?.terminate();
    const worker = new Worker(new URL('./stage.worker.ts', import.meta.url), { type: 'module', name: 'ferry-stage' });
    this.#worker = worker;
    return new Promise<string>((resolve, reject) => {
      worker.onmessage = (message: MessageEvent<unknown>) => {
        const event = parseStageEvent(message.data);
        if (!event) return;
        if (event.type === 'progress') {
          this.bytes = event.bytes;
          progress(event.bytes);
          return;
        }
        this.#stopWorker();
        if (event.type === 'staged') resolve(event.blake3);
        else reject(new FerryError(event.code, event.message));
      };
      worker.onerror = (event) => {
        event.preventDefault();
        this.#stopWorker();
        reject(new FerryError('STORAGE_FAILED', `${file.name} could not be staged in this browser’s storage.`));
      };
      const request: StageRequest = { type: 'stage', file, path: this.path };
      worker.postMessage(request);
    });
  }

  /** Deletes the staged file and lets its lock go; never rejects. */
  async remove(): Promise<void> {
    if (this.#worker) {
      const stop: StageRequest = { type: 'stop' };
      this.#worker.postMessage(stop);
      // Let the worker close its sync access handle: an open one keeps the file.
      await new Promise((resolve) => setTimeout(resolve, 200));
      this.#stopWorker();
    }
    try {
      await (await directory()).removeEntry(this.path);
    } catch {
      // Never created, or already gone.
    }
    this.bytes = 0;
    this.#release();
  }

  #stopWorker(): void {
    this.#worker?.terminate();
    this.#worker = null;
  }
}
