/**
 * What `ferry send PATH…` sends: files as they are, folders walked with their paths kept
 * (`photos/2024/a.jpg`), and `-` (stdin of unknown length) spooled to a file first, because
 * a share declares each file's exact size before its first byte is uploaded.
 */
import { createWriteStream } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes, toHex } from '../shared/encoding.ts';
import { FerryError } from '../shared/errors.ts';
import { MAX_FILES } from '../shared/limits.ts';
import { repairRelativePath } from '../shared/names.ts';
import type { FileSource } from '../shared/share-plan.ts';

/** A file to send: where its bytes are, and how the share names it. */
export interface LocalFile extends FileSource {
  path: string;
  /** A spool of stdin, removed once sent. */
  spooled: boolean;
}

/** Reads plaintext [start, end) of a file, exactly (into `out` when given, of that length). */
export async function readRange(
  file: string,
  start: number,
  end: number,
  out = new Uint8Array(end - start),
): Promise<Uint8Array<ArrayBuffer>> {
  if (out.length !== end - start) throw new RangeError(`a buffer of ${out.length} bytes for ${end - start}`);
  const handle = await open(file, 'r');
  try {
    return await readExactly(handle, start, out, file);
  } finally {
    await handle.close();
  }
}

/** Fills `out` from byte `start` of an open file; CONTENT_CHANGED (naming `file`) when it ends first. */
export async function readExactly(
  handle: FileHandle,
  start: number,
  out: Uint8Array<ArrayBuffer>,
  file: string,
): Promise<Uint8Array<ArrayBuffer>> {
  let filled = 0;
  while (filled < out.length) {
    const { bytesRead } = await handle.read(out, filled, out.length - filled, start + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  if (filled !== out.length) {
    throw new FerryError('CONTENT_CHANGED', `${file} changed size while it was being sent.`);
  }
  return out;
}

/** The files named on the command line, folders expanded, in a stable order. */
export async function collectFiles(paths: readonly string[], spoolDir: string): Promise<LocalFile[]> {
  if (paths.length === 0) throw new FerryError('BAD_REQUEST', 'Name at least one file or folder to send.');
  const files: LocalFile[] = [];
  for (const given of paths) {
    if (given === '-') {
      files.push(await spoolStdin(spoolDir));
      continue;
    }
    const info = await stat(given).catch((cause: unknown) => {
      throw new FerryError('BAD_REQUEST', `${given} cannot be read (${(cause as Error).message}).`, { cause });
    });
    const base = path.basename(path.resolve(given));
    if (info.isDirectory()) await walk(path.resolve(given), base, files);
    else files.push(await localFile(path.resolve(given), base));
  }
  const names = new Set<string>();
  for (const file of files) {
    if (names.has(file.name)) throw new FerryError('BAD_REQUEST', `Two files would both be named ${file.name}.`);
    names.add(file.name);
  }
  if (files.length > MAX_FILES) throw new FerryError('TOO_LARGE', `A share holds at most ${MAX_FILES} files.`);
  return files;
}

async function walk(dir: string, name: string, into: LocalFile[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    const relative = `${name}/${entry.name}`;
    if (entry.isDirectory()) await walk(full, relative, into);
    // Symbolic links are followed only when they point at a file.
    else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(full)).isFile())) {
      into.push(await localFile(full, relative));
    }
  }
}

async function localFile(file: string, name: string): Promise<LocalFile> {
  const info = (await lstat(file)).isSymbolicLink() ? await stat(file) : await lstat(file);
  return {
    path: file,
    name: repairRelativePath(name),
    size: info.size,
    type: '',
    lastModified: Math.floor(info.mtimeMs),
    spooled: false,
  };
}

async function spoolStdin(spoolDir: string): Promise<LocalFile> {
  await mkdir(spoolDir, { recursive: true, mode: 0o700 });
  const file = path.join(spoolDir, `stdin-${toHex(randomBytes(8))}`);
  await pipeline(process.stdin, createWriteStream(file, { mode: 0o600 }));
  const info = await stat(file);
  return { path: file, name: 'stdin', size: info.size, type: '', lastModified: Date.now(), spooled: true };
}
