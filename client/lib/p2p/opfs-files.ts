/**
 * The recipient's side of the OPFS writer: the class that owns the worker (promises and
 * callbacks, one worker per transfer; the worker is the engine's VerifyingSink over OPFS,
 * opfs-writer.worker.ts) and the page's access to the finished files.
 */
import { FerryError, isErrorCode } from '../../../shared/errors.ts';
import type { FileCipher } from '../../../shared/records.ts';
import { opfsDirectory, P2P_OPFS_DIR } from './opfs-dir.ts';
import { parseWriterEvent, type WriterRequest } from './writer-messages.ts';

/** How long `close` waits for the worker to close its handles. */
const CLOSE_WAIT_MS = 1000;

interface Pending {
  resolve: () => void;
  reject: (error: FerryError) => void;
}

export class OpfsWriter {
  #worker: Worker;
  #done = new Map<number, Pending>();
  #failure: FerryError | null = null;
  #syncs = new Map<number, () => void>();
  #nextSync = 0;
  readonly #onVerified: (file: number, verified: number) => void;
  readonly #onFailed: (error: FerryError) => void;

  /** `onVerified` hears each verified prefix; `onFailed` the first failure (then nothing more). */
  constructor(onVerified: (file: number, verified: number) => void, onFailed: (error: FerryError) => void) {
    this.#onVerified = onVerified;
    this.#onFailed = onFailed;
    this.#worker = new Worker(new URL('./opfs-writer.worker.ts', import.meta.url), {
      type: 'module',
      name: 'ferry-p2p-writer',
    });
    this.#worker.onmessage = (message: MessageEvent<unknown>) => {
      const event = parseWriterEvent(message.data);
      if (!event) return;
      if (event.type === 'verified') this.#onVerified(event.file, event.verified);
      else if (event.type === 'synced') this.#synced(event.id);
      else if (event.type === 'done') this.#done.get(event.file)?.resolve();
      else this.#fail(new FerryError(isErrorCode(event.code) ? event.code : 'STORAGE_FAILED', event.message));
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new FerryError('STORAGE_FAILED', 'The file could not be written to this device’s storage.'));
    };
  }

  /** Starts file `file`; settles when all its records are verified and written and the BLAKE3 matched. */
  open(file: number, path: string, cipher: FileCipher, blake3: string): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.#done.set(file, { resolve, reject }));
    done.catch(() => {});
    this.#post({ type: 'open', file, path, cipher, blake3 });
    return done;
  }

  /**
   * Hands sealed records first, first + 1, … of `file` to the worker: views back to back in
   * one buffer (a decoded frame's), which is transferred, not copied, so the caller must not
   * touch it afterwards.
   */
  writeFrame(file: number, first: number, records: readonly Uint8Array<ArrayBuffer>[]): void {
    if (this.#failure) return;
    const [head] = records;
    if (!head) return;
    let end = head.byteOffset;
    for (const record of records) {
      if (record.buffer !== head.buffer || record.byteOffset !== end) throw new RangeError('records not back to back');
      end += record.byteLength;
    }
    const lengths = records.map((record) => record.byteLength);
    this.#post({ type: 'records', file, first, bytes: head.buffer, at: head.byteOffset, lengths }, [head.buffer]);
  }

  /**
   * Settles once the worker has handled every record posted so far (verified and written,
   * or refused), so what it reports as verified is all this side will ever have of them.
   */
  sync(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextSync++;
    const synced = new Promise<void>((resolve) => this.#syncs.set(id, resolve));
    this.#post({ type: 'sync', id });
    return synced;
  }

  /**
   * Stops the worker once it has handled everything posted and closed every handle (with
   * `discard`, deleting each file not verified whole); settles after CLOSE_WAIT_MS at most,
   * whatever the worker does.
   */
  async close(discard: boolean): Promise<void> {
    const id = this.#nextSync++;
    const closed = new Promise<void>((resolve) => this.#syncs.set(id, resolve));
    this.#post({ type: 'close', id, discard });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    this.#worker.terminate();
  }

  #post(request: WriterRequest, transfer: Transferable[] = []): void {
    this.#worker.postMessage(request, transfer);
  }

  #synced(id: number): void {
    this.#syncs.get(id)?.();
    this.#syncs.delete(id);
  }

  #fail(error: FerryError): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const synced of this.#syncs.values()) synced();
    this.#syncs.clear();
    for (const pending of this.#done.values()) pending.reject(error);
    this.#onFailed(error);
  }
}

const directory = () => opfsDirectory(P2P_OPFS_DIR);

/** A received file, as a File backed by the OPFS copy (read in chunks, never whole). */
export async function receivedFile(path: string): Promise<File> {
  return (await (await directory()).getFileHandle(path)).getFile();
}

/** Deletes the OPFS copy of a file once it is on the user's disk (or abandoned); never rejects. */
export async function removeReceived(path: string): Promise<void> {
  try {
    await (await directory()).removeEntry(path);
  } catch {
    // Already gone, or no OPFS here (a private window): there is nothing to delete.
  }
}

const PROBE_NAME = '.probe';

/**
 * Whether this browser can store a nearby transfer, found by trying: open OPFS, write a
 * probe file and remove it. `getDirectory` exists in a Firefox private window but rejects
 * there (SecurityError), so its presence says nothing.
 */
export async function canStoreTransfers(): Promise<boolean> {
  try {
    const dir = await directory();
    const probe = await dir.getFileHandle(PROBE_NAME, { create: true });
    // createWritable is missing from some Safari versions; sync access handles (what the
    // writer worker uses) exist only in workers, so a handle that opened is the test there.
    if (typeof probe.createWritable === 'function') {
      const writable = await probe.createWritable();
      await writable.write(new Uint8Array([1]));
      await writable.close();
    }
    await dir.removeEntry(PROBE_NAME);
    return true;
  } catch {
    return false;
  }
}
