import { describe, expect, it } from 'vitest';
import { WRITE_BATCH_BYTES, WriteBatch, WriteRefused, type WriteTarget } from './write-batch.ts';

/** A file in memory that takes at most `most` bytes per write, as a sync access handle may. */
function memoryFile(size: number, most = Number.POSITIVE_INFINITY) {
  const bytes = new Uint8Array(size);
  const writes: number[] = [];
  const target: WriteTarget = {
    write(buffer, { at }) {
      const n = Math.min(buffer.length, most);
      bytes.set(buffer.subarray(0, n), at);
      writes.push(n);
      return n;
    },
  };
  return { bytes, writes, target };
}

const record = (size: number, fill: number) => new Uint8Array(size).fill(fill);

describe('WriteBatch', () => {
  it('gathers consecutive records into one write at the first record’s offset', () => {
    const recordSize = 64 * 1024;
    const file = memoryFile(3 * WRITE_BATCH_BYTES);
    const batch = new WriteBatch(file.bytes.length, recordSize);
    const perBatch = WRITE_BATCH_BYTES / recordSize;
    for (let i = 0; i < perBatch; i++) {
      expect(batch.full).toBe(false);
      batch.add(WRITE_BATCH_BYTES + i * recordSize, record(recordSize, i + 1));
    }
    expect(batch.full).toBe(true);
    expect(batch.fits(1)).toBe(false);
    const written = batch.writeTo(file.target);
    expect(file.writes).toEqual([WRITE_BATCH_BYTES]);
    expect(written.length).toBe(WRITE_BATCH_BYTES);
    expect(batch.length).toBe(0);
    expect(file.bytes[WRITE_BATCH_BYTES - 1]).toBe(0);
    expect(file.bytes[WRITE_BATCH_BYTES]).toBe(1);
    expect(file.bytes[2 * WRITE_BATCH_BYTES - 1]).toBe(perBatch);
    // The next batch goes on where this one ended.
    batch.add(2 * WRITE_BATCH_BYTES, record(10, 9));
    batch.writeTo(file.target);
    expect(file.bytes[2 * WRITE_BATCH_BYTES + 9]).toBe(9);
  });

  it('refuses bytes that do not follow or do not fit', () => {
    const batch = new WriteBatch(300, 100);
    expect(batch.full).toBe(false);
    batch.add(0, record(100, 1));
    expect(() => batch.add(150, record(100, 2))).toThrow(RangeError);
    batch.add(100, record(100, 2));
    batch.add(200, record(100, 3));
    // A small file's batch is the file: full once all of it is in.
    expect(batch.full).toBe(true);
    expect(() => batch.add(300, record(1, 4))).toThrow(RangeError);
  });

  it('keeps writing until the target took everything, and fails when it takes nothing', () => {
    const file = memoryFile(1000, 300);
    const batch = new WriteBatch(1000, 1000);
    batch.add(0, record(1000, 7));
    batch.writeTo(file.target);
    expect(file.writes).toEqual([300, 300, 300, 100]);
    expect(file.bytes.every((b) => b === 7)).toBe(true);
    batch.add(0, record(5, 1));
    expect(() => batch.writeTo(memoryFile(10, 0).target)).toThrow('the file took no bytes');
  });

  it('fails when a write answers more bytes than it was given (Chromium’s full quota: 2^32 − 8)', () => {
    const batch = new WriteBatch(1000, 1000);
    batch.add(0, record(1000, 7));
    const noSpace: WriteTarget = { write: () => 4294967288 };
    expect(() => batch.writeTo(noSpace)).toThrow(WriteRefused);
    expect(() => batch.writeTo(noSpace)).toThrow('the file answered 4294967288 bytes written');
  });

  it('holds a record larger than a batch, and an empty file writes nothing', () => {
    const big = new WriteBatch(8 * WRITE_BATCH_BYTES, 2 * WRITE_BATCH_BYTES);
    expect(big.fits(2 * WRITE_BATCH_BYTES)).toBe(true);
    const empty = new WriteBatch(0, 65536);
    empty.add(0, new Uint8Array(0));
    const file = memoryFile(0);
    expect(empty.writeTo(file.target).length).toBe(0);
    expect(file.writes).toEqual([]);
  });
});
