import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { blake3 } from 'hash-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../shared/errors.ts';
import { hashFile } from './file-hasher.ts';
import { parseHashRequest } from './hash-messages.ts';
import type { LocalFile } from './sources.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ferry-hasher-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function pseudoRandom(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function local(name: string, bytes: Uint8Array): Promise<LocalFile> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return { path: file, name, size: bytes.length, type: '', lastModified: 0, spooled: false };
}

describe('hashFile (BLAKE3 on the hashing thread)', () => {
  it('answers what hash-wasm answers in one call, at sizes around its 1 MiB reads', async () => {
    const MiB = 1024 * 1024;
    const sizes = [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 17];
    const files = await Promise.all(sizes.map((size, i) => local(`f${i}`, pseudoRandom(size, i + 1))));
    // Asked all at once: the thread answers each, in whatever order they were queued.
    const hashes = await Promise.all(files.map((f) => hashFile(f)));
    for (const [i, size] of sizes.entries()) expect(hashes[i]).toBe(await blake3(pseudoRandom(size, i + 1)));
  });

  it('fails with CONTENT_CHANGED, naming the file, when its size is not the one given', async () => {
    const file = await local('grown', pseudoRandom(1000, 9));
    const error = await hashFile({ ...file, size: 999 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('CONTENT_CHANGED');
    expect((error as FerryError).message).toContain('grown changed size');
  });

  it('fails with CONTENT_CHANGED when the file cannot be read, and the thread goes on', async () => {
    const missing = { ...(await local('there', new Uint8Array(3))), path: path.join(dir, 'gone'), name: 'gone' };
    const error = await hashFile(missing).catch((e: unknown) => e);
    expect((error as FerryError).code).toBe('CONTENT_CHANGED');
    expect((error as FerryError).message).toMatch(/gone cannot be read \(ENOENT/);
    const after = await local('after', pseudoRandom(5000, 3));
    expect(await hashFile(after)).toBe(await blake3(pseudoRandom(5000, 3)));
  });
});

describe('parseHashRequest', () => {
  it('takes a well-formed request and refuses the rest', () => {
    const good = { id: 1, path: '/a', size: 0, name: 'a' };
    expect(parseHashRequest(good)).toEqual(good);
    for (const bad of [null, 'x', { ...good, id: 1.5 }, { ...good, size: -1 }, { ...good, path: 3 }, { id: 1 }]) {
      expect(() => parseHashRequest(bad)).toThrow(TypeError);
    }
  });
});
