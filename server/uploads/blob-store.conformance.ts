/**
 * What every BlobStore must do, as a suite any implementation runs:
 * `blobStoreConformance('file', (expiryMs) => new FileBlobStore(dir, expiryMs))`. A later
 * S3 store passes this before it replaces @tus/file-store.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Upload } from '@tus/server';
import { describe, expect, it } from 'vitest';
import type { BlobStore } from './blob-store.ts';

const EXPIRY_MS = 200;
let serial = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Creates an upload of `size` bytes through the tus DataStore and writes `bytes` of it. */
async function upload(store: BlobStore, size: number, bytes: Buffer): Promise<string> {
  const id = `blob${serial++}x${randomBytes(4).toString('hex')}`;
  await store.datastore.create(new Upload({ id, size, offset: 0 }));
  if (bytes.length > 0) await store.datastore.write(Readable.from([bytes]), id, 0);
  return id;
}

export function blobStoreConformance(name: string, makeStore: (expiryMs: number) => BlobStore): void {
  describe(`BlobStore conformance: ${name}`, () => {
    it('stores what tus writes and reads any byte range back', async () => {
      const store = makeStore(EXPIRY_MS);
      const bytes = randomBytes(10_000);
      const id = await upload(store, bytes.length, bytes.subarray(0, 4000));
      expect(await store.size(id)).toBe(4000);
      await store.datastore.write(Readable.from([bytes.subarray(4000)]), id, 4000);
      expect(await store.size(id)).toBe(10_000);
      expect((await readAll(store.read(id, 0, 9999))).equals(bytes)).toBe(true);
      expect((await readAll(store.read(id, 123, 123))).equals(bytes.subarray(123, 124))).toBe(true);
      expect(await store.list()).toContain(id);
      expect(await store.size('neverCreated')).toBeUndefined();
    });

    it('expires unfinished uploads but never sealed ones, and tus sees a sealed one as current', async () => {
      const store = makeStore(EXPIRY_MS);
      const bytes = randomBytes(500);
      const sealed = await upload(store, bytes.length, bytes);
      const unfinished = await upload(store, 1000, bytes);
      await store.seal(sealed);
      await store.seal(sealed); // idempotent
      await sleep(EXPIRY_MS + 100);
      await store.removeExpired();
      expect(await store.size(unfinished)).toBeUndefined();
      expect(await store.list()).not.toContain(unfinished);
      expect(await store.size(sealed)).toBe(500);
      // @tus/server's HEAD refuses an upload whose creation_date is older than the expiry.
      const info = await store.datastore.getUpload(sealed);
      expect(info.offset).toBe(500);
      const created = info.creation_date ? Date.parse(info.creation_date) : Number.POSITIVE_INFINITY;
      expect(created + EXPIRY_MS).toBeGreaterThan(Date.now());
      expect((await readAll(store.read(sealed, 0, 499))).equals(bytes)).toBe(true);
    });

    it('removes uploads, and removing a missing one is no error', async () => {
      const store = makeStore(EXPIRY_MS);
      const id = await upload(store, 10, randomBytes(10));
      await store.remove(id);
      expect(await store.size(id)).toBeUndefined();
      expect(await store.list()).not.toContain(id);
      await expect(store.remove(id)).resolves.toBeUndefined();
      await expect(store.remove('neverCreated')).resolves.toBeUndefined();
    });

    it('tells its free space (or that it cannot) and takes a probe write without keeping it', async () => {
      const store = makeStore(EXPIRY_MS);
      const before = await store.list();
      const space = await store.space();
      if (space) {
        expect(space.free).toBeGreaterThan(0);
        expect(space.total).toBeGreaterThanOrEqual(space.free);
      }
      await expect(store.checkWritable()).resolves.toBeUndefined();
      expect(await store.list()).toEqual(before);
    });
  });
}
