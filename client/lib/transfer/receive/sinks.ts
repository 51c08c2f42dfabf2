/**
 * Where verified plaintext goes, chosen per browser (best first):
 *
 * 1. `showSaveFilePicker` (WICG File System Access): written straight to the chosen file.
 *    A FileSystemWritableFileStream writes to a swap file that replaces the target only on
 *    close(); abort() discards it (File System Standard §"FileSystemWritableFileStream"),
 *    so a failed file never appears on disk.
 * 2. The service worker stream (sw-download.ts) for anything larger than BLOB_LIMIT:
 *    the page transfers the verified plaintext stream to the worker, which serves it. Where
 *    the page cannot transfer a stream (Safari: DataCloneError), the service worker fetches,
 *    decrypts and verifies the file itself instead, or every file of a ZIP (sw-fetch.ts), or
 *    reads a file from OPFS (sw-stored.ts): one received from a nearby device, or a link's
 *    file the page staged and verified there first (staging.ts, chosen by the receive session).
 * 3. A Blob assembled in memory after the stream has closed, that is after verification,
 *    and saved through an object URL: only up to BLOB_LIMIT. Anything larger with neither
 *    1 nor 2 is refused with a sentence (StreamingUnavailable), never buffered: a 4 GB
 *    file or ZIP in memory would take the tab (or the machine) down.
 *
 * Every sink consumes a stream that errors instead of closing when the file fails
 * (shared/file-hash.ts), and each one turns that error into "no file" or "failed download".
 */
import { FerryError } from '../../../../shared/errors.ts';
import type { OpfsFolder } from '../../p2p/opfs-dir.ts';
import { safeDownloadName } from './content-disposition.ts';
import { canTransferStreams } from './decryptor.ts';
import type { StoredFile, SwFetchFile } from './messages.ts';
import {
  activeServiceWorker,
  type FetchWatch,
  fetchInServiceWorker,
  storedInServiceWorker,
  streamToServiceWorker,
} from './sw-download.ts';

/** Files up to this size may be assembled in memory when nothing better exists. */
export const BLOB_LIMIT = 8 * 1024 * 1024;

export type SinkKind = 'picker' | 'service-worker' | 'service-worker-fetch' | 'blob';

/** How a service worker can take a download: a transferred stream, or fetching the file itself. */
export type SwMode = 'transfer' | 'fetch';

/**
 * The sink for a download of `size` bytes given what this browser offers, or null when
 * the only thing left would be buffering more than BLOB_LIMIT in memory.
 */
export function chooseSink(size: number, has: { picker: boolean; serviceWorker: SwMode | null }): SinkKind | null {
  if (has.picker) return 'picker';
  if (size <= BLOB_LIMIT) return 'blob';
  if (has.serviceWorker === 'transfer') return 'service-worker';
  return has.serviceWorker === 'fetch' ? 'service-worker-fetch' : null;
}

/** What is being saved: the sentence of a refusal differs. */
export type SaveWhat = 'file' | 'archive';

/** The download is too large to buffer and this browser offers no way to stream it. */
export class StreamingUnavailable extends FerryError {
  constructor(what: SaveWhat) {
    super(
      'TOO_LARGE',
      what === 'archive'
        ? "This browser can't save an archive this large; try Chrome or Edge, a window that is not private, or download the files one at a time."
        : "This browser can't stream a file this large to disk; try Chrome or Edge, or a window that is not private.",
    );
    this.name = 'StreamingUnavailable';
  }
}

/**
 * How a service worker can take a download now, or null when none is active (waiting, at
 * most a few seconds, for a first visit's registration to activate). Tried, not assumed:
 * a ReadableStream that cannot be transferred (DataCloneError) means 'fetch'.
 */
export async function serviceWorkerMode(): Promise<SwMode | null> {
  const worker = await activeServiceWorker().catch(() => null);
  if (worker === null) return null;
  return canTransferStreams() ? 'transfer' : 'fetch';
}

/** A place to save one download; resolves once the bytes are all written. */
export type SaveTarget =
  | { kind: 'picker' | 'service-worker' | 'blob'; save(stream: ReadableStream<Uint8Array>): Promise<void> }
  /**
   * The service worker fetches and decrypts the file itself and saves it (sw-fetch.ts), or
   * serves files that sit whole in OPFS (sw-stored.ts).
   */
  | {
      kind: 'service-worker-fetch';
      fetch(file: SwFetchFile, watch: FetchWatch): Promise<void>;
      /** A file that sits whole in OPFS (`folder`/`path`), read and verified by the service worker. */
      stored(file: { folder: OpfsFolder; path: string; blake3: string }): Promise<void>;
      /** Every file of the archive, each whole in OPFS, served by the service worker as one ZIP. */
      storedArchive(folder: OpfsFolder, files: StoredFile[], watch: FetchWatch): Promise<void>;
    };

interface FileHandle {
  createWritable(): Promise<WritableStream<Uint8Array> & { abort(reason?: unknown): Promise<void> }>;
}
type SavePicker = (options: { suggestedName: string }) => Promise<FileHandle>;

function picker(): SavePicker | undefined {
  const fn = (globalThis as { showSaveFilePicker?: SavePicker }).showSaveFilePicker;
  return typeof fn === 'function' ? fn.bind(globalThis) : undefined;
}

/**
 * Picks the sink. Must be called straight from the click handler, before any other await:
 * showSaveFilePicker needs the click's transient user activation (HTML §6.4.3). Only
 * without a picker, and only for more than BLOB_LIMIT, does it wait for `serviceWorker()`
 * (at click time, so a worker that activated after the page opened is found). Answers null
 * when the user closes the picker; throws StreamingUnavailable instead of buffering.
 */
export async function chooseTarget(
  name: string,
  size: number,
  what: SaveWhat,
  serviceWorker: () => Promise<SwMode | null> = serviceWorkerMode,
): Promise<SaveTarget | null> {
  const savePicker = picker();
  const hasPicker = savePicker !== undefined;
  const mode = !hasPicker && size > BLOB_LIMIT ? await serviceWorker() : null;
  const kind = chooseSink(size, { picker: hasPicker, serviceWorker: mode });
  if (kind === null) throw new StreamingUnavailable(what);
  const fileName = safeDownloadName(name);
  if (kind === 'picker' && savePicker) {
    let handle: FileHandle;
    try {
      handle = await savePicker({ suggestedName: fileName });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') return null;
      throw new FerryError('ABORTED', 'The file could not be saved there.', { cause: error });
    }
    return { kind, save: (stream) => saveToHandle(handle, stream) };
  }
  if (kind === 'service-worker') return { kind, save: (stream) => streamToServiceWorker(stream, fileName, size) };
  if (kind === 'service-worker-fetch') {
    const fetch = (file: SwFetchFile, watch: FetchWatch) =>
      fetchInServiceWorker({ file: { ...file, name: fileName } }, size, watch);
    const stored = ({ folder, path, blake3 }: { folder: OpfsFolder; path: string; blake3: string }) =>
      storedInServiceWorker(
        { archive: null, folder, files: [{ path, blake3, name: fileName, size, modified: null }] },
        size,
      );
    const storedArchive = (folder: OpfsFolder, files: StoredFile[], watch: FetchWatch) =>
      storedInServiceWorker({ archive: fileName, folder, files }, size, watch);
    return { kind, fetch, stored, storedArchive };
  }
  return { kind, save: (stream) => saveAsBlob(stream, fileName) };
}

async function saveToHandle(handle: FileHandle, stream: ReadableStream<Uint8Array>): Promise<void> {
  const writable = await handle.createWritable();
  try {
    await stream.pipeTo(writable);
  } catch (error) {
    // pipeTo already aborts the destination when the source errors; abort again in case
    // the failure came from elsewhere, so the swap file is discarded either way.
    await writable.abort(error).catch(() => {});
    throw error;
  }
}

/** Reads the whole stream, then saves it. Nothing is offered unless the stream closed cleanly. */
export async function saveAsBlob(stream: ReadableStream<Uint8Array>, fileName: string): Promise<void> {
  const parts: BlobPart[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value as Uint8Array<ArrayBuffer>);
  }
  const url = URL.createObjectURL(new Blob(parts, { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoking at once can cancel the download in some browsers; a minute is plenty.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
