import { describe, expect, it } from 'vitest';
import { cipherRange, encryptedSize } from '../../../../shared/records.ts';
import { clipRecord, parseRange, recordsOf, windowOf } from './preview-range.ts';

const layout = { size: 10 * 1024 + 100, recordSize: 1024 };

describe('parseRange', () => {
  it('reads the three forms of one range (RFC 9110 §14.1.2)', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ kind: 'partial', start: 0, end: 100 });
    expect(parseRange('bytes=500-', 1000)).toEqual({ kind: 'partial', start: 500, end: 1000 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ kind: 'partial', start: 900, end: 1000 });
  });

  it('clamps an end past the file and a suffix longer than it', () => {
    expect(parseRange('bytes=900-5000', 1000)).toEqual({ kind: 'partial', start: 900, end: 1000 });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ kind: 'partial', start: 0, end: 1000 });
  });

  it('refuses a start at or past the end, and bytes=-0', () => {
    expect(parseRange('bytes=1000-', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('answers the whole file for no Range, several ranges or nonsense', () => {
    for (const header of [null, 'bytes=0-1,5-9', 'bytes=9-1', 'items=0-1', 'bytes=-', 'bytes=a-b', '']) {
      expect(parseRange(header, 1000)).toEqual({ kind: 'full' });
    }
  });
});

describe('records of a range', () => {
  it('maps plaintext bytes to the records that hold them', () => {
    expect(recordsOf(layout, { start: 0, end: 1 })).toEqual({ first: 0, last: 0 });
    expect(recordsOf(layout, { start: 1023, end: 1025 })).toEqual({ first: 0, last: 1 });
    expect(recordsOf(layout, { start: 5000, end: layout.size })).toEqual({ first: 4, last: 10 });
  });

  it('fetches at most a window of records, as exact ciphertext', () => {
    const window = windowOf(layout, 4, 10, 4);
    expect(window).toEqual({ first: 4, last: 7, cipher: { start: 4 * 1040, end: 8 * 1040 } });
    const tail = windowOf(layout, 8, 10, 4);
    // The last record is short: 100 bytes of plaintext plus its tag.
    expect(tail.cipher).toEqual({ start: 8 * 1040, end: encryptedSize(layout) });
    expect(tail.cipher.end).toBe(cipherRange(layout, 10)[1]);
  });

  it('a seek near the end of a large file needs only the records at the end', () => {
    const video = { size: 2_900_000, recordSize: 65536 };
    const { first, last } = recordsOf(video, { start: 2_800_000, end: video.size });
    expect(last - first + 1).toBe(3);
    const window = windowOf(video, first, last, 4);
    expect(window.cipher.end - window.cipher.start).toBeLessThan(video.size / 10);
  });

  it('clips a record to the part inside the range', () => {
    const record = new Uint8Array(1024).map((_, i) => i % 256);
    expect(clipRecord(layout, 1, record, { start: 1030, end: 1040 })).toEqual(record.subarray(6, 16));
    expect(clipRecord(layout, 1, record, { start: 0, end: layout.size })).toEqual(record);
    expect(clipRecord(layout, 1, record, { start: 2040, end: 9000 })).toEqual(record.subarray(1016));
  });
});
