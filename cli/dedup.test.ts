import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ShareOwnerView } from '../shared/api.ts';
import { toBase64Url } from '../shared/encoding.ts';
import { deriveShareKeys, newSecret } from '../shared/keys.ts';
import { findReuse, forgetShareBlobs, rememberBlobs } from './dedup.ts';
import type { LocalFile } from './sources.ts';
import type { SendState } from './state.ts';

const SERVER = 'http://127.0.0.1:9';
const BLAKE3 = 'ab'.repeat(32);
const file: LocalFile = { path: '/data/a.bin', name: 'a.bin', size: 1000, type: '', lastModified: 5, spooled: false };

let dir = '';
const saved = process.env.XDG_STATE_HOME;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-dedup-'));
  process.env.XDG_STATE_HOME = dir;
});
afterEach(async () => {
  process.env.XDG_STATE_HOME = saved;
  await rm(dir, { recursive: true, force: true });
});

async function remember(expiresAt: number): Promise<void> {
  const secret = newSecret();
  const state: SendState = {
    server: SERVER,
    id: 'share-1',
    ownerToken: 'o',
    uploadToken: 'u',
    secret: toBase64Url(secret),
    linkKey: toBase64Url(secret),
    expiresAt,
    files: [{ ...file, nonce: 'AAAAAAAAAAAAAAAA', recordSize: 65536, blake3: BLAKE3 }],
  };
  const slot = { index: 0, sealed: true, blobId: 'blob-1', blobToken: 't'.repeat(43) };
  const view = { expiresAt, files: [slot] } as unknown as ShareOwnerView;
  await rememberBlobs(state, [file], view, (await deriveShareKeys(secret)).contentKey);
}

describe('reusing what this machine uploaded', () => {
  it('nominates by path, size and mtime, decides by BLAKE3, and only on the same server', async () => {
    const now = Date.now();
    await remember(now + 60_000);
    expect((await stat(path.join(dir, 'ferry', 'blobs', `${BLAKE3}.json`))).mode & 0o777).toBe(0o600);
    let hashed = 0;
    const hash = async () => {
      hashed++;
      return BLAKE3;
    };
    const found = await findReuse(SERVER, file, hash, now);
    expect(found.reuse).toMatchObject({ blobId: 'blob-1', nonce: 'AAAAAAAAAAAAAAAA', blake3: BLAKE3 });
    expect(found.reuse?.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Another modification time: not even read.
    expect(await findReuse(SERVER, { ...file, lastModified: 6 }, hash, now)).toEqual({
      reuse: undefined,
      blake3: null,
    });
    expect(hashed).toBe(1);
    // Same fingerprint, other bytes: read, not reused, the hash kept for the manifest.
    expect(await findReuse(SERVER, file, async () => 'cd'.repeat(32), now)).toEqual({
      reuse: undefined,
      blake3: 'cd'.repeat(32),
    });
    expect((await findReuse('http://other:1', file, hash, now)).reuse).toBeUndefined();
    expect((await findReuse(SERVER, { ...file, spooled: true }, hash, now)).reuse).toBeUndefined();
  });

  it('forgets a blob once its share expired, or when its share is revoked', async () => {
    const now = Date.now();
    await remember(now + 1000);
    expect((await findReuse(SERVER, file, async () => BLAKE3, now + 1000)).reuse).toBeUndefined();
    expect(await readdir(path.join(dir, 'ferry', 'blobs'))).toEqual([]);
    await remember(now + 60_000);
    await forgetShareBlobs('share-1');
    expect((await findReuse(SERVER, file, async () => BLAKE3, now)).reuse).toBeUndefined();
  });
});
