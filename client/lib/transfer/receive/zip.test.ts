import { describe, expect, it } from 'vitest';
import { readZip } from '../../../../e2e/support/zip.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { MAX_FILES } from '../../../../shared/limits.ts';
import type { ManifestFile } from '../../../../shared/manifest.ts';
import { zipDate, zipLength, zipStream } from './zip.ts';

function manifestFile(name: string, size: number): ManifestFile {
  return { name, size, type: '', recordSize: 65536, nonce: '', blake3: null };
}

function streamOf(bytes: Uint8Array, fail?: FerryError) {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(bytes);
      if (fail) c.error(fail);
      else c.close();
    },
  });
  return { stream, result: fail ? Promise.reject(fail) : Promise.resolve() };
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const noEvents = { onStart() {}, onVerified() {}, onFailed() {} };

describe('zipStream', () => {
  const files = [manifestFile('photos/2024/a.jpg', 3), manifestFile('notes.txt', 2)];

  it('writes folder paths as entry names and matches the predicted length', async () => {
    const data = [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5)];
    const verified: number[] = [];
    const zip = await bytesOf(
      zipStream(files, async (i) => streamOf(data[i]!), { ...noEvents, onVerified: (i) => verified.push(i) }),
    );
    const text = new TextDecoder('latin1').decode(zip);
    expect(text).toContain('photos/2024/a.jpg');
    expect(text).toContain('notes.txt');
    expect(zip.length).toBe(zipLength(files));
    expect(verified).toEqual([0, 1]);
  });

  it('errors the whole archive when one file fails, and reports which', async () => {
    const failure = new FerryError('RECORD_AUTH_FAILED', 'notes.txt: record 0 failed verification.');
    const failed: number[] = [];
    const zip = zipStream(
      files,
      async (i) => (i === 0 ? streamOf(Uint8Array.of(1, 2, 3)) : streamOf(Uint8Array.of(4), failure)),
      { ...noEvents, onFailed: (i) => failed.push(i) },
    );
    await expect(bytesOf(zip)).rejects.toThrow();
    expect(failed).toEqual([1]);
  });

  it('renames repeated names so unpacking keeps every file, and still matches the predicted length', async () => {
    const same = [manifestFile('a.txt', 1), manifestFile('A.txt', 2), manifestFile('a', 3), manifestFile('a/a.txt', 4)];
    const zip = await bytesOf(zipStream(same, async (i) => streamOf(new Uint8Array(i + 1).fill(i + 1)), noEvents));
    expect(zip.length).toBe(zipLength(same));
    expect(readZip(Buffer.from(zip)).map((e) => [e.name, [...e.bytes]])).toEqual([
      ['a.txt', [1]],
      ['A (2).txt', [2, 2]],
      ['a (2)', [3, 3, 3]],
      ['a/a.txt', [4, 4, 4, 4]],
    ]);
  });
});

describe('ZIP limits', () => {
  it('keeps a share within the 65535 entries a plain end record counts', () => {
    // client-zip writes the ZIP64 end record only for sizes and offsets past 4 GiB, so an
    // archive of more entries would carry a wrong count in a small archive.
    expect(MAX_FILES).toBeLessThan(0xffff);
  });
});

describe('zipDate', () => {
  it('keeps a modification time the ZIP format can hold, and uses now when there is none', () => {
    const june = new Date(2024, 5, 1, 12, 30).getTime();
    expect(zipDate(june).getTime()).toBe(june);
    expect(zipDate(undefined, june).getTime()).toBe(june);
  });

  it('holds times outside MS-DOS dates (1980 to 2107) at the nearest end', () => {
    expect(zipDate(0)).toEqual(new Date(1980, 0, 1));
    expect(zipDate(Number.MAX_SAFE_INTEGER)).toEqual(new Date(2107, 11, 31, 23, 59, 58));
  });
});
