/**
 * Test files: deterministic pseudo-random bytes (AES-128-CTR over zeros, keyed by a seed
 * string) so a failing run can be repeated byte for byte, and SHA-256 to compare what was
 * sent with what arrived.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** `size` deterministic pseudo-random bytes for `seed`. */
export function randomBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/** Hex SHA-256 of a buffer. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Hex SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A file written for a test: where it is, the name the app should show, and its bytes' hash. */
export interface TestFile {
  path: string;
  /** Path relative to the folder picked (or the base name for a single file). */
  name: string;
  size: number;
  sha256: string;
  bytes: Buffer;
}

/** A temporary directory for one test's files, removed by `dispose()`. */
export class Workspace {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(): Promise<Workspace> {
    return new Workspace(await mkdtemp(join(tmpdir(), 'ferry-e2e-files-')));
  }

  /** Writes `size` pseudo-random bytes (seeded by `relativePath`) at `relativePath`. */
  async file(relativePath: string, size: number, seed = relativePath): Promise<TestFile> {
    const bytes = randomBytes(seed, size);
    const path = join(this.dir, relativePath);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
    return { path, name: relativePath.slice(relativePath.lastIndexOf('/') + 1), size, sha256: sha256(bytes), bytes };
  }

  /**
   * A folder `folder` holding `files` (relative paths and sizes). Each returned name is the
   * path relative to the folder's parent (`folder/sub/file`), which is what a browser reports
   * as `webkitRelativePath` for a picked folder.
   */
  async folder(folder: string, files: Record<string, number>): Promise<{ path: string; files: TestFile[] }> {
    const written: TestFile[] = [];
    for (const [relative, size] of Object.entries(files)) {
      const file = await this.file(`${folder}/${relative}`, size);
      written.push({ ...file, name: `${folder}/${relative}` });
    }
    return { path: join(this.dir, folder), files: written };
  }

  async read(relativePath: string): Promise<Buffer> {
    return await readFile(join(this.dir, relativePath));
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
