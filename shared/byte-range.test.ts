import { describe, expect, it } from 'vitest';
import { parseRange } from './byte-range.ts';

describe('parseRange (RFC 9110 §14.1.2)', () => {
  it('reads the three single-range forms', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseRange('bytes=-5', 100)).toEqual({ kind: 'partial', start: 95, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ kind: 'partial', start: 0, end: 99 });
    expect(parseRange('bytes=50-5000', 100)).toEqual({ kind: 'partial', start: 50, end: 99 });
  });
  it('refuses ranges outside the file and ignores malformed or multiple ranges', () => {
    expect(parseRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    for (const h of [undefined, 'bytes=5-2', 'items=0-1', 'bytes=0-1,4-5', 'bytes=-', 'bytes=a-b']) {
      expect(parseRange(h, 100)).toEqual({ kind: 'full' });
    }
  });
});
