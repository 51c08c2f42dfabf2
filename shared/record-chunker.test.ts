import { describe, expect, it } from 'vitest';
import { FerryError } from './errors.ts';
import { RecordChunker } from './record-chunker.ts';
import { cipherRange, encryptedSize, recordCount } from './records.ts';

const layout = { size: 10_000, recordSize: 1024 };

function bytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
}

/** Cuts `data` at pseudo-random points, like a network would. */
function randomCuts(data: Uint8Array, seed: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let s = seed;
  for (let at = 0; at < data.length; ) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const len = 1 + (s % 3000);
    out.push(data.subarray(at, at + len));
    at += len;
  }
  return out;
}

describe('RecordChunker', () => {
  it('rebuilds exact records from any chunk boundaries', () => {
    const cipher = bytes(encryptedSize(layout));
    for (const seed of [1, 2, 3, 42, 999]) {
      const chunker = new RecordChunker(layout);
      const records = randomCuts(cipher, seed).flatMap((c) => chunker.push(c));
      expect(records.map((r) => r.index)).toEqual([...Array(recordCount(layout)).keys()]);
      for (const r of records) {
        const [s, e] = cipherRange(layout, r.index);
        expect(r.sealed).toEqual(cipher.slice(s, e));
      }
      expect(chunker.done).toBe(true);
    }
  });

  it('handles one byte at a time and one chunk for everything', () => {
    const cipher = bytes(encryptedSize(layout));
    const one = new RecordChunker(layout);
    const singles = [...cipher].flatMap((b) => one.push(Uint8Array.of(b)));
    expect(singles).toHaveLength(recordCount(layout));
    expect(new RecordChunker(layout).push(cipher)).toHaveLength(recordCount(layout));
  });

  it('starts at a later record after a resume and drops a partial record on restart', () => {
    const cipher = bytes(encryptedSize(layout));
    const chunker = new RecordChunker(layout);
    const [, end1] = cipherRange(layout, 1);
    expect(chunker.push(cipher.subarray(0, end1 + 100)).map((r) => r.index)).toEqual([0, 1]);
    expect(chunker.pending).toBe(100);
    chunker.restart();
    expect(chunker.pending).toBe(0);
    const rest = chunker.push(cipher.subarray(end1));
    expect(rest[0]?.index).toBe(2);
    expect(rest.at(-1)?.index).toBe(recordCount(layout) - 1);
  });

  it('treats an empty file as one tag-only record', () => {
    const chunker = new RecordChunker({ size: 0, recordSize: 1024 });
    expect(chunker.push(bytes(16))).toHaveLength(1);
    expect(chunker.done).toBe(true);
  });

  it('refuses bytes past the end of the file', () => {
    const chunker = new RecordChunker(layout, 0, 'a.txt');
    expect(() => chunker.push(bytes(encryptedSize(layout) + 1))).toThrow(FerryError);
  });
});
