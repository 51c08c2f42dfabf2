/**
 * The service worker's half of saving a file that sits whole in the origin private file
 * system, where the page cannot transfer it a stream (Safari: DataCloneError) and the file
 * is too large for a Blob: a file received from a nearby device, or a link's file staged
 * there first (staging.ts). The file is in a folder of p2p/opfs-dir.ts, which a
 * service worker can read too (File System Standard: `StorageManager.getDirectory()` is
 * exposed to workers). This worker reads it in chunks from there, checks its BLAKE3 against
 * the manifest's as it goes (the last chunk is held back until the hash matches:
 * shared/file-hash.ts), and serves it as an attachment like any other download. The page
 * removes the OPFS copy once the browser has read the last byte (`delivered`).
 */
import { FerryError } from '../../../../shared/errors.ts';
import { verifyingStream } from '../../../../shared/file-hash.ts';
import { OPFS_DIRS } from '../../p2p/opfs-dir.ts';
import { createBlake3 } from '../blake3.ts';
import type { SwDownload, SwReply, SwStored } from './messages.ts';
import { servedCopy } from './sw-fetch.ts';

/** The stored file `request` names, verified as it streams; rejects when it is missing or of another size. */
export async function storedDownload(request: SwStored, port: MessagePort | null): Promise<SwDownload> {
  const { name, size } = request;
  let file: File;
  try {
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(OPFS_DIRS[request.folder]);
    file = await (await dir.getFileHandle(request.path)).getFile();
  } catch (error) {
    throw new FerryError('STORAGE_FAILED', `${name} is no longer stored in this browser.`, { cause: error });
  }
  if (file.size !== size)
    throw new FerryError('STORAGE_FAILED', `${name} is stored with ${file.size} of ${size} bytes.`);
  let counted = 0;
  const counting = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      counted += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  const plaintext = file
    .stream()
    .pipeThrough(verifyingStream(createBlake3(), request.blake3, name))
    .pipeThrough(counting);
  const post = (reply: SwReply) => port?.postMessage(reply);
  const stream = servedCopy(plaintext, post, () => ({ file: 0, bytes: counted, name }));
  return { type: 'download', id: request.id, name, size, stream };
}
