/**
 * The S3 BlobStore on a real S3 server (Ceph radosgw, started by the test set-up) against
 * the BlobStore conformance suite, with pieces of 4 KiB so reads cross their boundaries;
 * FERRY_S3_BUCKET / FERRY_S3_ENDPOINT read; start-up refusing a bucket that does not exist
 * or an endpoint that does not answer with a sentence naming S3; no staged piece outlives
 * its write, its store or its process.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Upload } from '@tus/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFerryServer } from '../app.ts';
import { configFromProcess } from '../config.ts';
import { freePort } from '../test-engines/process.ts';
import type { S3Engine } from '../test-engines/s3.ts';
import { S3_START_TIMEOUT_MS, s3Buckets } from '../test-engines/s3-buckets.ts';
import { blobStoreConformance } from './blob-store.conformance.ts';
import { S3BlobStore } from './s3-blob-store.ts';

const newBucket = s3Buckets();
let bucket = '';
let s3: S3Engine;
const stores: S3BlobStore[] = [];
beforeAll(async () => {
  ({ bucket, s3 } = await newBucket());
}, S3_START_TIMEOUT_MS);
const scratch = mkdtempSync(path.join(tmpdir(), 'ferry-s3-config-'));
afterAll(() => {
  for (const store of stores) store.close();
  rmSync(scratch, { recursive: true, force: true });
});

function options(expiryMs: number) {
  const { endpoint, region, accessKeyId, secretAccessKey } = s3;
  return { bucket, endpoint, region, credentials: { accessKeyId, secretAccessKey }, expiryMs };
}

blobStoreConformance('S3', (expiryMs) => {
  const store = new S3BlobStore({ ...options(expiryMs), pieceBytes: 4096 });
  stores.push(store);
  return store;
});

describe('S3BlobStore start-up', () => {
  it('opens a bucket that exists', async () => {
    const store = await S3BlobStore.open(options(1000));
    stores.push(store);
    await expect(store.checkWritable()).resolves.toBeUndefined();
  });

  it('refuses a bucket that does not exist, naming S3 and the bucket', async () => {
    const opening = S3BlobStore.open({ ...options(1000), bucket: 'ferry-no-such-bucket' });
    await expect(opening).rejects.toMatchObject({
      code: 'ENGINE_UNAVAILABLE',
      message: expect.stringMatching(/S3 bucket "ferry-no-such-bucket" at http:\/\/127\.0\.0\.1:\d+ .*does not exist/),
    });
  });

  it('refuses an endpoint that does not answer, naming S3', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const opening = S3BlobStore.open({ ...options(1000), endpoint });
    await expect(opening).rejects.toMatchObject({
      code: 'ENGINE_UNAVAILABLE',
      message: expect.stringMatching(/S3 bucket .* at http:\/\/127\.0\.0\.1:\d+ .*does not answer/),
    });
  });
});

describe('FERRY_S3_BUCKET and FERRY_S3_ENDPOINT', () => {
  it('are read as a bucket name and an http(s) URL; a bad value stops the configuration', () => {
    expect(configFromProcess([], {}).s3).toBeNull();
    expect(configFromProcess([], { FERRY_S3_BUCKET: 'ferry-files' }).s3).toEqual({ bucket: 'ferry-files' });
    expect(
      configFromProcess([], { FERRY_S3_BUCKET: ' ferry ', FERRY_S3_ENDPOINT: 'http://127.0.0.1:7480 ' }).s3,
    ).toEqual({ bucket: 'ferry', endpoint: 'http://127.0.0.1:7480' });
    expect(() => configFromProcess([], { FERRY_S3_ENDPOINT: 'http://s3.local' })).toThrow(
      /FERRY_S3_ENDPOINT is set but FERRY_S3_BUCKET is not/,
    );
    expect(() => configFromProcess([], { FERRY_S3_BUCKET: 'Ferry_Files' })).toThrow(/FERRY_S3_BUCKET must be/);
    expect(() => configFromProcess([], { FERRY_S3_BUCKET: 'ferry', FERRY_S3_ENDPOINT: 's3.local:7480' })).toThrow(
      /FERRY_S3_ENDPOINT must be an http/,
    );
  });

  it('stop the server from starting when the bucket does not exist, naming S3', async () => {
    const start = createFerryServer({
      port: 0,
      host: '127.0.0.1',
      dataDir: scratch,
      s3: { ...options(1000), bucket: 'ferry-missing' },
    });
    await expect(start).rejects.toMatchObject({
      code: 'ENGINE_UNAVAILABLE',
      message: expect.stringMatching(/^Ferry cannot use the S3 bucket "ferry-missing" at .*does not exist/),
    });
  });
});

describe('S3BlobStore staging', () => {
  /** A fresh base for staging directories, and what is under it (directory → its files). */
  function stagingBase() {
    const base = mkdtempSync(path.join(scratch, 'staging-'));
    const contents = () => Object.fromEntries(readdirSync(base).map((dir) => [dir, readdirSync(path.join(base, dir))]));
    return { base, contents };
  }

  it('a PATCH body cut short mid-piece leaves no staged file, and a closed store leaves no directory', async () => {
    const { base, contents } = stagingBase();
    const store = new S3BlobStore({ ...options(60_000), pieceBytes: 4096, stagingDir: base });
    const id = `cut${randomBytes(6).toString('hex')}`;
    await store.datastore.create(new Upload({ id, size: 10_000, offset: 0 }));
    const bytes = randomBytes(6000);
    async function* cut() {
      yield bytes.subarray(0, 3000);
      yield bytes.subarray(3000);
      throw new Error('client went away');
    }
    await expect(store.datastore.write(Readable.from(cut()), id, 0)).rejects.toThrow('client went away');
    // What arrived whole is kept (a piece of 4096 and one of 1904), and nothing staged is left.
    expect((await store.datastore.getUpload(id)).offset).toBe(6000);
    const [dir, ...others] = Object.entries(contents());
    expect(others).toEqual([]);
    expect(dir?.[0]).toMatch(new RegExp(`^ferry-s3-staging-${process.pid}-`));
    expect(dir?.[1]).toEqual([]);
    store.close();
    expect(contents()).toEqual({});
  });

  it("a dead process's staging directory is removed by the next store opened on its base, a live one's is kept", () => {
    const { base, contents } = stagingBase();
    // A process that has exited: its pid names no process now (as after a SIGKILL mid-PATCH).
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const deadDir = `ferry-s3-staging-${dead}-abc123`;
    mkdirSync(path.join(base, deadDir));
    writeFileSync(path.join(base, deadDir, 'ferry-piece-x-0123'), randomBytes(100));
    const liveDir = `ferry-s3-staging-${process.pid}-live01`;
    mkdirSync(path.join(base, liveDir));
    writeFileSync(path.join(base, liveDir, 'ferry-piece-y-4567'), randomBytes(100));
    const store = new S3BlobStore({ ...options(60_000), stagingDir: base });
    try {
      const after = contents();
      expect(after[deadDir]).toBeUndefined();
      expect(after[liveDir]).toEqual(['ferry-piece-y-4567']);
      expect(Object.keys(after)).toHaveLength(2);
    } finally {
      store.close();
    }
  });
});
