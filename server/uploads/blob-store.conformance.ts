/**
 * What every BlobStore must do, as a suite any implementation runs:
 * `blobStoreConformance('file', (expiryMs) => new FileBlobStore(dir, expiryMs))`. Every call
 * of `makeStore` must give a store on the same storage (as two nodes would have). A store
 * that cuts uploads into pieces should be made with pieces of a few KiB, so that the reads
 * here cross their boundaries.
 *
 * Download while uploading and the relay fallback read an upload that is still running, so
 * the suite requires it: every byte counted by `size` (the tus offset) is readable at once,
 * by any store on the same storage, while the upload continues.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { Upload } from '@tus/server';
import { describe, expect, it } from 'vitest';
import { type BlobStore, requestBodyBytes } from './blob-store.ts';

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

/** Waits until the store holds more than `than` bytes of `id`; answers how many. */
async function grownPast(store: BlobStore, id: string, than: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const size = (await store.size(id)) ?? 0;
    if (size > than) return size;
    if (Date.now() > deadline) throw new Error(`upload ${id} stayed at ${size} bytes`);
    await sleep(20);
  }
}

/** A body that sends `bytes` and then fails, as a connection cut mid-PATCH does. */
function cutBody(bytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(bytes);
      } else {
        setTimeout(() => this.destroy(new Error('connection reset')), 20);
      }
    },
  });
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

    it('serves every stored byte of a running upload at once, to another store on the same storage too', async () => {
      const writer = makeStore(EXPIRY_MS);
      const reader = makeStore(EXPIRY_MS);
      const bytes = randomBytes(40_000);
      const id = await upload(writer, bytes.length, Buffer.alloc(0));
      const body = new PassThrough();
      const writing = writer.datastore.write(body, id, 0);
      let seen = 0;
      for (let at = 0; at < 30_000; at += 10_000) {
        body.write(bytes.subarray(at, at + 10_000));
        // The PATCH is still open: whatever size() counts must already be readable.
        seen = await grownPast(reader, id, seen);
        expect(seen).toBeLessThanOrEqual(at + 10_000);
        expect((await readAll(reader.read(id, 0, seen - 1))).equals(bytes.subarray(0, seen))).toBe(true);
        const from = Math.floor(seen / 3);
        expect((await readAll(reader.read(id, from, seen - 1))).equals(bytes.subarray(from, seen))).toBe(true);
        // tus's offset counts the same bytes (more, if another piece landed meanwhile).
        const offset = (await reader.datastore.getUpload(id)).offset;
        expect(offset).toBeGreaterThanOrEqual(seen);
        expect(offset).toBeLessThanOrEqual(at + 10_000);
      }
      body.end(bytes.subarray(30_000));
      expect(await writing).toBe(bytes.length);
      expect(await reader.size(id)).toBe(bytes.length);
      for (let i = 0; i < 20; i++) {
        const a = Math.floor(Math.random() * bytes.length);
        const b = a + Math.floor(Math.random() * (bytes.length - a));
        expect((await readAll(reader.read(id, a, b))).equals(bytes.subarray(a, b + 1))).toBe(true);
      }
    });

    it('resumes an interrupted PATCH at the offset it reports, with every byte in place', async () => {
      const store = makeStore(EXPIRY_MS);
      const bytes = randomBytes(30_000);
      const id = await upload(store, bytes.length, bytes.subarray(0, 5000));
      await expect(store.datastore.write(cutBody(bytes.subarray(5000, 17_000)), id, 5000)).rejects.toBeTruthy();
      const stored = (await store.size(id)) ?? -1;
      expect(stored).toBeGreaterThanOrEqual(5000);
      expect(stored).toBeLessThanOrEqual(17_000);
      // tus HEAD answers this offset, and the client sends the rest from there.
      expect((await makeStore(EXPIRY_MS).datastore.getUpload(id)).offset).toBe(stored);
      expect((await readAll(store.read(id, 0, stored - 1))).equals(bytes.subarray(0, stored))).toBe(true);
      expect(await store.datastore.write(Readable.from([bytes.subarray(stored)]), id, stored)).toBe(bytes.length);
      expect((await readAll(store.read(id, 0, bytes.length - 1))).equals(bytes)).toBe(true);
    });

    it('stores a body whose length the request declared, whole, cut off, or ended short', async () => {
      const store = makeStore(EXPIRY_MS);
      const bytes = randomBytes(30_000);
      const id = await upload(store, bytes.length, Buffer.alloc(0));
      // As tus.ts runs a request with a Content-Length; sent in uneven chunks.
      const declared = (length: number, body: Readable, offset: number) =>
        requestBodyBytes.run(length, () => store.datastore.write(body, id, offset));
      const whole = bytes.subarray(0, 10_000);
      const chunks = [whole.subarray(0, 3000), whole.subarray(3000, 3001), whole.subarray(3001)];
      expect(await declared(whole.length, Readable.from(chunks), 0)).toBe(10_000);
      expect((await readAll(store.read(id, 0, 9999))).equals(whole)).toBe(true);

      // A connection cut after 7,000 of 15,000 declared bytes: what arrived is kept.
      await expect(declared(15_000, cutBody(bytes.subarray(10_000, 17_000)), 10_000)).rejects.toBeTruthy();
      const afterCut = (await store.size(id)) ?? -1;
      expect(afterCut).toBeGreaterThanOrEqual(10_000);
      expect(afterCut).toBeLessThanOrEqual(17_000);
      expect((await makeStore(EXPIRY_MS).datastore.getUpload(id)).offset).toBe(afterCut);

      // A body that ends without an error short of its length (tus ends it so when the
      // client aborts): the offset counts what arrived, every byte of it readable.
      const short = bytes.subarray(afterCut, afterCut + 6000);
      expect(await declared(9000, Readable.from([short]), afterCut)).toBe(afterCut + 6000);
      const rest = bytes.subarray(afterCut + 6000);
      expect(await declared(rest.length, Readable.from([rest]), afterCut + 6000)).toBe(bytes.length);
      expect((await readAll(store.read(id, 0, bytes.length - 1))).equals(bytes)).toBe(true);
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
