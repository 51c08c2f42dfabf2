import { describe, expect, it } from 'vitest';
import { addInterval, coversAll } from './intervals.ts';

describe('coverage intervals', () => {
  it('merges overlapping and adjacent intervals and detects full coverage', () => {
    let list = addInterval([], 10, 20);
    list = addInterval(list, 30, 40);
    expect(list).toEqual([
      [10, 20],
      [30, 40],
    ]);
    list = addInterval(list, 20, 30);
    expect(list).toEqual([[10, 40]]);
    expect(coversAll(list, 40)).toBe(false);
    list = addInterval(list, 0, 10);
    expect(coversAll(list, 40)).toBe(true);
    expect(addInterval([[0, 5]], 7, 7)).toEqual([[0, 5]]);
  });
});
