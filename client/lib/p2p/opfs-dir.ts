/**
 * Ferry's folders in the origin private file system. `P2P_OPFS_DIR` holds files received
 * from nearby devices: written by the OPFS writer worker, read by the page and, to save a
 * large file where the page cannot hand it a stream, by the service worker
 * (receive/sw-stored.ts). `STAGED_OPFS_DIR` holds a link's file staged whole and verified
 * before the browser's download starts, where a failed service-worker download would leave
 * a cut file under the real name (Safari: receive/staging.ts).
 */
export const P2P_OPFS_DIR = 'ferry-p2p';
export const STAGED_OPFS_DIR = 'ferry-staged';

/** Ferry's folders, as messages name them. */
export type OpfsFolder = 'received' | 'staged';

/** The directory name of each folder a `download-stored` message may name. */
export const OPFS_DIRS: Record<OpfsFolder, string> = { received: P2P_OPFS_DIR, staged: STAGED_OPFS_DIR };

/** The name of file `index` of transfer `transfer` in that folder. */
export const receivedPath = (transfer: string, index: number): string => `${transfer}-${index}`;

/** Ferry's directory `name` in the origin private file system, made when missing. */
export async function opfsDirectory(name: string): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(name, { create: true });
}
