/**
 * "Download all": one streamed ZIP of every file's verified plaintext (client-zip
 * `makeZip`, stored entries, CRC-32 and data descriptors written as bytes pass, ZIP64
 * added by client-zip 2 whenever a size or offset needs it). Files are fetched one after
 * another, each only when the archive reaches it; a file that fails errors its stream, and
 * with it the whole archive, so a ZIP with a bad file in it is never completed.
 */
import { makeZip, predictLength } from 'client-zip';
import type { FerryError } from '../../../../shared/errors.ts';
import type { ManifestFile } from '../../../../shared/manifest.ts';
import type { DecryptedFile } from './decrypt-file.ts';
import { zipEntryName } from './zip-names.ts';

/** What the archive tells its caller about each file as it goes. */
export interface ZipEvents {
  onStart(index: number): void;
  onVerified(index: number): void;
  onFailed(index: number, error: FerryError): void;
}

/** Exact byte length of the archive (for Content-Length and the sink choice). */
export function zipLength(files: readonly ManifestFile[]): number {
  return Number(predictLength(files.map((f) => ({ name: zipEntryName(f.name), size: f.size }))));
}

/** The archive as a stream; `open(i)` starts file i of `files`. */
export function zipStream(
  files: readonly ManifestFile[],
  open: (index: number) => Promise<DecryptedFile>,
  events: ZipEvents,
): ReadableStream<Uint8Array> {
  async function* entries() {
    for (const [index, file] of files.entries()) {
      events.onStart(index);
      const { stream, result } = await open(index);
      result.then(
        () => events.onVerified(index),
        (error: FerryError) => events.onFailed(index, error),
      );
      yield {
        name: zipEntryName(file.name),
        input: stream,
        size: file.size,
        lastModified: file.modified === undefined ? new Date() : new Date(file.modified),
      };
    }
  }
  return makeZip(entries(), { buffersAreUTF8: true });
}
