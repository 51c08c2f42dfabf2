import { describe, expect, it } from 'vitest';
import { hashPlan } from './plan.ts';

const MiB = 1024 * 1024;

describe('hashPlan', () => {
  it('reads an empty file once', () => {
    expect([...hashPlan(0, 4 * MiB, 16 * MiB)]).toEqual([{ start: 0, end: 0, checkpoint: false }]);
  });

  it('covers every byte exactly once in bounded reads', () => {
    const steps = [...hashPlan(10 * MiB + 3, 4 * MiB, 0)];
    expect(steps.map((s) => s.end - s.start)).toEqual([4 * MiB, 4 * MiB, 2 * MiB + 3]);
    for (let i = 1; i < steps.length; i++) expect(steps[i]?.start).toBe(steps[i - 1]?.end);
  });

  it('ends a read at every checkpoint multiple, even when reads do not align', () => {
    const steps = [...hashPlan(20, 3, 5)];
    expect(steps.filter((s) => s.checkpoint).map((s) => s.end)).toEqual([5, 10, 15, 20]);
    expect(steps.every((s) => s.end - s.start <= 3)).toBe(true);
  });
});
