/** The file-system BlobStore (@tus/file-store) against the BlobStore conformance suite. */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { blobStoreConformance } from './blob-store.conformance.ts';
import { FileBlobStore } from './blob-store.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ferry-blobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

blobStoreConformance('file', (expiryMs) => new FileBlobStore(dir, expiryMs));

it('makes its directory before the constructor returns, and throws there when it cannot', () => {
  const fresh = path.join(dir, 'made', 'files');
  new FileBlobStore(fresh, 60_000);
  expect(statSync(fresh).isDirectory()).toBe(true);
  // tus's own async mkdir threw such an error as an uncaught exception of the process.
  const notADirectory = path.join(dir, 'plain-file');
  writeFileSync(notADirectory, '');
  expect(() => new FileBlobStore(path.join(notADirectory, 'files'), 60_000)).toThrow(/ENOTDIR/);
});
