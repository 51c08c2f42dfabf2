import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import { watched } from './watched-stream.ts';

function source(chunks: number, fail?: Error): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === chunks) {
        if (fail) controller.error(fail);
        else controller.close();
        return;
      }
      controller.enqueue(new Uint8Array(1000).fill(i++));
    },
  });
}

const watch = (beats: { n: number }) => ({ stallMs: 100, beatMs: 10, beat: () => beats.n++ });

describe('watched', () => {
  it('resolves with the byte count once the reader took the end', async () => {
    const beats = { n: 0 };
    const copy = watched(source(5), watch(beats));
    const reader = copy.readable.getReader();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      await new Promise((r) => setTimeout(r, 15));
    }
    expect(bytes).toBe(5000);
    await expect(copy.done).resolves.toBe(5000);
    expect(beats.n).toBeGreaterThan(1);
  });

  it('fails with DOWNLOAD_INCOMPLETE and errors the copy when the reader stops asking', async () => {
    const copy = watched(source(5), watch({ n: 0 }));
    const reader = copy.readable.getReader();
    await reader.read();
    await reader.read();
    const started = Date.now();
    const error = await copy.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('DOWNLOAD_INCOMPLETE');
    expect((error as FerryError).message).toMatch(/1000 bytes taken, then nothing/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await expect(reader.read()).rejects.toBe(error);
  });

  it('fails with DOWNLOAD_INCOMPLETE when the reader cancels', async () => {
    const copy = watched(source(5), watch({ n: 0 }));
    const reader = copy.readable.getReader();
    await reader.read();
    await reader.cancel('closed by the browser');
    await expect(copy.done).rejects.toMatchObject({ code: 'DOWNLOAD_INCOMPLETE' });
  });

  it("passes the source's own failure on, to the reader and to done", async () => {
    const bad = new FerryError('RECORD_AUTH_FAILED', 'record 2 was altered');
    const copy = watched(source(2, bad), watch({ n: 0 }));
    const reader = copy.readable.getReader();
    await reader.read();
    await reader.read();
    await expect(reader.read()).rejects.toBe(bad);
    await expect(copy.done).rejects.toBe(bad);
  });

  it('stops beating once settled', async () => {
    const beats = { n: 0 };
    const copy = watched(source(0), watch(beats));
    await copy.readable.getReader().read();
    await copy.done;
    const after = beats.n;
    await new Promise((r) => setTimeout(r, 50));
    expect(beats.n).toBe(after);
  });
});
