import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import type { ManifestFile } from '../../../../shared/manifest.ts';
import { zipLength, zipStream } from './zip.ts';

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
});
