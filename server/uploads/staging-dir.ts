/**
 * A directory of this process's own for pieces staged on their way to S3 (s3-blob-store.ts).
 * A staged file is removed once its piece is stored or dropped, but a process that dies
 * mid-PATCH (SIGKILL, a crash, an exit while a write was still storing) cannot remove it:
 * so each process stages in `ferry-s3-staging-<pid>-<random>` under the base, removes it
 * when its store closes, and a store opening on the same base removes the directories of
 * processes that no longer exist. Nodes sharing one machine never touch a live one's files.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const PREFIX = 'ferry-s3-staging-';
const OWNED = /^ferry-s3-staging-(\d+)-/;

/** Whether a process with this id exists (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the staging directories under `base` whose process is gone; their names. */
export function sweepDeadStaging(base: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(base)) {
    const pid = Number(OWNED.exec(name)?.[1] ?? Number.NaN);
    if (!Number.isSafeInteger(pid) || pid <= 0 || alive(pid)) continue;
    rmSync(path.join(base, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** A new staging directory of this process under `base`, after sweeping dead ones. */
export function ownStagingDir(base: string): { dir: string; remove(): void } {
  sweepDeadStaging(base);
  const dir = mkdtempSync(path.join(base, `${PREFIX}${process.pid}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
