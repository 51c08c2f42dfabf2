/**
 * Folder of the origin private file system that holds files received from nearby devices:
 * written by the OPFS writer worker, read by the page and, to save a large file where the
 * page cannot hand it a stream, by the service worker (receive/sw-stored.ts).
 */
export const P2P_OPFS_DIR = 'ferry-p2p';

/** The name of file `index` of transfer `transfer` in that folder. */
export const receivedPath = (transfer: string, index: number): string => `${transfer}-${index}`;
