import { describe, expect, it } from 'vitest';
import { decodeFileSet, encodeFileSet, fileSetHas } from './file-set.ts';

describe('file sets', () => {
  it('encodes indices as ascending runs and decodes them back', () => {
    const all = Array.from({ length: 1000 }, (_, i) => i);
    expect(encodeFileSet(all)).toBe('0-999');
    expect(encodeFileSet([9, 0, 1, 2, 3, 7, 10, 11, 12, 3])).toBe('0-3,7,9-12');
    expect(encodeFileSet([5])).toBe('5');
    expect(encodeFileSet([])).toBe('');
    for (const set of [all, [0, 1, 2, 3, 7, 9, 10, 11, 12], [5], [], [0, 2, 4, 999]]) {
      expect(decodeFileSet(encodeFileSet(set))).toEqual(set);
    }
  });

  it('reads a plain comma list, as older records were migrated to', () => {
    expect(decodeFileSet('0,1,2,5')).toEqual([0, 1, 2, 5]);
  });

  it('tells membership without expanding', () => {
    const text = '0-3,7,9-12';
    const members = Array.from({ length: 15 }, (_, i) => i).filter((i) => fileSetHas(text, i));
    expect(members).toEqual(decodeFileSet(text));
    expect(fileSetHas('', 0)).toBe(false);
  });

  it('refuses malformed text', () => {
    for (const bad of ['a', '1-', '3-1', '1,,2', '-1', '1.5']) expect(() => decodeFileSet(bad)).toThrow(TypeError);
  });
});
