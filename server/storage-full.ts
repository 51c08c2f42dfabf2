/**
 * Running out of storage is an answer, never a wedge. Errors that mean "no room to write"
 * (a full disk ENOSPC, a quota EDQUOT, a read-only file system EROFS, and SQLite's own
 * SQLITE_FULL "database or disk is full" and SQLITE_READONLY*) become STORAGE_FULL (507)
 * wherever they surface; and a free-space reserve keeps new uploads from taking the last
 * bytes the databases need (FERRY_MIN_FREE_BYTES, see README).
 */
import { statfs } from 'node:fs/promises';
import { FerryError } from '../shared/errors.ts';

const NO_ROOM = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'SQLITE_FULL']);

/** How deep a chain of `cause`s is followed (tus and our own wrappers add one level each). */
const MAX_CAUSES = 5;

/** Whether `error` (or an error it wraps) says the storage has no room or cannot be written. */
export function isOutOfSpace(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < MAX_CAUSES && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (NO_ROOM.has(code) || code.startsWith('SQLITE_READONLY'))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The STORAGE_FULL answer; `cause` keeps the system error for the log. */
export function storageFull(cause?: unknown): FerryError {
  return new FerryError(
    'STORAGE_FULL',
    'The server is out of storage space, so nothing was stored. Try again later.',
    cause === undefined ? undefined : { cause },
  );
}

/** The default reserve: 256 MiB, or 5 % of the file system when that is smaller (a small disk). */
export const DEFAULT_RESERVE_BYTES = 256 * 1024 ** 2;
const DEFAULT_RESERVE_SHARE = 0.05;

export interface Space {
  /** Bytes an unprivileged writer may still use. */
  free: number;
  /** Size of the file system. */
  total: number;
}

/** Free and total bytes of the file system holding `dir` (statfs). */
export async function spaceOf(dir: string): Promise<Space> {
  const s = await statfs(dir);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
}

/** The reserve for a file system of `total` bytes: the operator's, else the default. */
export function reserveFor(total: number, configured: number | undefined): number {
  return configured ?? Math.min(DEFAULT_RESERVE_BYTES, Math.floor(total * DEFAULT_RESERVE_SHARE));
}

/**
 * Refuses (STORAGE_FULL) to store `bytes` more when that would leave less than the reserve
 * free; `committed` is what already-admitted uploads still have to write. A store that
 * cannot tell its free space (`space` undefined) admits everything.
 */
export function assertRoom(space: Space | undefined, reserve: number, bytes: number, committed = 0): void {
  if (!space) return;
  if (space.free - committed - bytes < reserve) {
    throw new FerryError(
      'STORAGE_FULL',
      `The server has no room for ${bytes} more bytes now (it keeps ${reserve} bytes free), so nothing was stored. Try again later.`,
    );
  }
}
