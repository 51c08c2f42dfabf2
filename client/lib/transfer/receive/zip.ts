/**
 * "Download all": one streamed ZIP of every file's verified plaintext (client-zip
 * `makeZip`, stored entries, CRC-32 and data descriptors written as bytes pass, ZIP64
 * added by client-zip 2 whenever a size or offset needs it). Files are fetched one after
 * another, each only when the archive reaches it; a file that fails errors its stream, and
 * with it the whole archive, so a ZIP with a bad file in it is never completed. Built on
 * the page, or by the service worker where the page cannot hand it a stream (sw-fetch.ts).
 */
import { makeZip, predictLength } from 'client-zip';
import type { FerryError } from '../../../../shared/errors.ts';
import type { DecryptedFile } from './decrypt-file.ts';
import { zipEntryNames } from './zip-names.ts';

/** What an entry needs: its path, size and modification time (ms; none: now). */
export interface ZipFile {
  name: string;
  size: number;
  modified?: number | null | undefined;
}

/** What the archive tells its caller about each file as it goes. */
export interface ZipEvents {
  onStart(index: number): void;
  onVerified(index: number): void;
  onFailed(index: number, error: FerryError): void;
}

// MS-DOS dates (APPNOTE §4.4.6), which client-zip writes in local time, run from 1980 to
// 2107. A manifest's `modified` outside that range would wrap into a wrong year (0, which
// some systems report for "unknown", became 2098), and past year 275760 client-zip throws.
const DOS_FIRST = new Date(1980, 0, 1).getTime();
const DOS_LAST = new Date(2107, 11, 31, 23, 59, 58).getTime();

/** The modification time an entry gets: the manifest's, held within the ZIP range. */
export function zipDate(modified: number | null | undefined, now: number = Date.now()): Date {
  return new Date(Math.min(Math.max(modified ?? now, DOS_FIRST), DOS_LAST));
}

/**
 * Exact byte length of the archive (for Content-Length and the sink choice). Past 4 GiB in
 * one file or in offsets, client-zip adds ZIP64 fields and records; `predictLength` counts
 * them from the same names and sizes `zipStream` writes, so the two must stay in step.
 */
export function zipLength(files: readonly ZipFile[]): number {
  const names = zipEntryNames(files.map((f) => f.name));
  return Number(predictLength(files.map((f, i) => ({ name: names[i], size: f.size }))));
}

/** The archive as a stream; `open(i)` starts file i of `files`. */
export function zipStream(
  files: readonly ZipFile[],
  open: (index: number) => Promise<DecryptedFile>,
  events: ZipEvents,
): ReadableStream<Uint8Array> {
  const names = zipEntryNames(files.map((f) => f.name));
  async function* entries() {
    for (const [index, file] of files.entries()) {
      events.onStart(index);
      const { stream, result } = await open(index);
      result.then(
        () => events.onVerified(index),
        (error: FerryError) => events.onFailed(index, error),
      );
      yield {
        name: names[index],
        input: stream,
        size: file.size,
        lastModified: zipDate(file.modified),
      };
    }
  }
  return makeZip(entries(), { buffersAreUTF8: true });
}
