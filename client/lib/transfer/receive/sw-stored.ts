/**
 * The service worker's half of saving files that sit whole in the origin private file
 * system, where the page cannot transfer it a stream (Safari: DataCloneError) and they are
 * too large for a Blob: a file received from a nearby device, or a link's files staged
 * there first (staging.ts), one as itself or all as one ZIP ("Download all"). The files are
 * in a folder of p2p/opfs-dir.ts, which a service worker can read too (File System
 * Standard: `StorageManager.getDirectory()` is exposed to workers). This worker reads each
 * in chunks from there, checks its BLAKE3 against the manifest's as it goes (the last chunk
 * is held back until the hash matches: shared/file-hash.ts), and serves the file or the
 * archive as an attachment like any other download. An archive reads each file only when
 * it reaches it, so nothing is copied a second time. The page removes the OPFS copies once
 * the browser has read the last byte (`delivered`).
 */
import { FerryError } from '../../../../shared/errors.ts';
import { verifyingStream } from '../../../../shared/file-hash.ts';
import { OPFS_DIRS, type OpfsFolder } from '../../p2p/opfs-dir.ts';
import { createBlake3 } from '../blake3.ts';
import type { SwDownload, SwReply, SwStored } from './messages.ts';
import { servedFiles } from './sw-fetch.ts';

/** Opens file `path` of `folder`; tests give Blobs instead of OPFS. */
export type OpenStored = (folder: OpfsFolder, path: string) => Promise<Blob>;

const fromOpfs: OpenStored = async (folder, path) => {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(OPFS_DIRS[folder]);
  return (await dir.getFileHandle(path)).getFile();
};

/**
 * The stored files `request` names, verified as they stream; rejects (before the browser's
 * download starts) when one is missing or of another size.
 */
export async function storedDownload(
  request: SwStored,
  port: MessagePort | null,
  open: OpenStored = fromOpfs,
): Promise<SwDownload> {
  const blobs = await Promise.all(
    request.files.map(async ({ name, size, path }) => {
      let blob: Blob;
      try {
        blob = await open(request.folder, path);
      } catch (error) {
        throw new FerryError('STORAGE_FAILED', `${name} is no longer stored in this browser.`, { cause: error });
      }
      if (blob.size !== size) {
        throw new FerryError('STORAGE_FAILED', `${name} is stored with ${blob.size} of ${size} bytes.`);
      }
      return blob;
    }),
  );
  const post = (reply: SwReply) => port?.postMessage(reply);
  return servedFiles(request.id, request.archive, request.files, post, (position) => {
    const file = request.files[position];
    const blob = blobs[position];
    if (!file || !blob) throw new FerryError('BAD_REQUEST', `No file at position ${position}.`);
    let settled: (failure?: FerryError) => void = () => {};
    const result = new Promise<void>((resolve, reject) => {
      settled = (failure) => (failure ? reject(failure) : resolve());
    });
    result.catch(() => {});
    const stream = blob.stream().pipeThrough(verifyingStream(createBlake3(), file.blake3, file.name, settled));
    return { stream, result };
  });
}
