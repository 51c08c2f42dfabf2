/** Changes what the server stored, as an attacker with access to its disk would. */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '@playwright/test';

const RECORD = 64 * 1024;
const TAG = 16;

/** Ciphertext size of a file of `size` bytes (ARCHITECTURE.md, "The record stream"). */
export function encryptedSize(size: number): number {
  return size + TAG * Math.max(1, Math.ceil(size / RECORD));
}

/** Flips one byte in the middle of the stored file whose size is `size`; returns its path. */
export async function flipStoredByte(dataDir: string, size: number): Promise<string> {
  const matches: string[] = [];
  for (const entry of await readdir(dataDir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && (await stat(path)).size === size) matches.push(path);
  }
  expect(matches, `exactly one stored file of ${size} bytes`).toHaveLength(1);
  const path = matches[0]!;
  const bytes = await readFile(path);
  const at = Math.floor(bytes.length / 2) + 7;
  bytes[at] = bytes[at]! ^ 0x01;
  await writeFile(path, bytes);
  return path;
}
