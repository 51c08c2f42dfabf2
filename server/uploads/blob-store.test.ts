/** The file-system BlobStore (@tus/file-store) against the BlobStore conformance suite. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { blobStoreConformance } from './blob-store.conformance.ts';
import { FileBlobStore } from './blob-store.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ferry-blobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

blobStoreConformance('file', (expiryMs) => new FileBlobStore(dir, expiryMs));
