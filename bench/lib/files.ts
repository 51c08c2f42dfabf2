/** Deterministic pseudo-random test files, written in chunks (never held in memory whole). */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

const CHUNK = 4 * 1024 * 1024;

/** Writes `bytes` pseudo-random bytes (xorshift32 from `seed`) to `path`; returns their SHA-256 hex. */
export async function writeRandomFile(path: string, bytes: number, seed: number): Promise<string> {
  const sha = createHash('sha256');
  const handle = await open(path, 'w');
  const words = new Uint32Array(CHUNK / 4);
  let x = seed >>> 0 || 1;
  try {
    for (let written = 0; written < bytes; ) {
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[i] = x >>> 0;
      }
      const n = Math.min(CHUNK, bytes - written);
      const chunk = new Uint8Array(words.buffer, 0, n);
      sha.update(chunk);
      await handle.write(chunk, 0, n);
      written += n;
    }
  } finally {
    await handle.close();
  }
  return sha.digest('hex');
}

/** SHA-256 hex of a file, read in chunks. */
export async function sha256File(path: string): Promise<string> {
  const sha = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: CHUNK })) sha.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return sha.digest('hex');
}
