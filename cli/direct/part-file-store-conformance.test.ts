import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { FILE_STORE_CASES, type StoreSubject } from '../../shared/p2p/file-store.conformance.ts';
import { PartFileStore } from './part-file-store.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A PartFileStore under a fresh directory; its part files count as entries too. */
async function partFiles(): Promise<StoreSubject> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ferry-store-conformance-'));
  dirs.push(dir);
  const targets = Array.from({ length: 8 }, (_, i) => path.join(dir, 'sub', `file-${i}.bin`));
  return {
    store: new PartFileStore(targets),
    read: async (file) =>
      readFile(targets[file]!).then(
        (bytes) => new Uint8Array(bytes),
        () => null,
      ),
    count: async () => (await readdir(path.join(dir, 'sub')).catch(() => [])).length,
  };
}

// A full disk (ENOSPC → STORAGE_FULL) cannot be made here without a small file system of its own.
describe('FileStore conformance: PartFileStore', () => {
  for (const c of FILE_STORE_CASES) it(c.name, () => c.run(partFiles));
});
