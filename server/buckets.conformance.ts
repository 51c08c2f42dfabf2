/**
 * What every Buckets implementation must do (buckets.ts): the memory buckets and the Redis
 * buckets both run this suite (buckets.test.ts). `make` gives fresh buckets of its own
 * (nothing shared with another test).
 */
import { describe, expect, it } from 'vitest';
import type { Buckets } from './buckets.ts';

export type MakeBuckets = (burst: number, perMs: number) => Promise<Buckets>;

/** The clock of these tests: milliseconds since the epoch, as the server passes. */
const T0 = 1_800_000_000_000;

export function bucketsConformance(name: string, make: MakeBuckets): void {
  describe(`${name} buckets`, () => {
    it('allow `burst` per key at once, refill over the window, and keep keys apart', async () => {
      const buckets = await make(3, 3 / 600);
      for (let i = 0; i < 3; i++) expect(await buckets.take('ip', T0)).toEqual({ ok: true });
      expect(await buckets.available('ip', T0)).toBe(false);
      expect(await buckets.take('ip', T0)).toEqual({ ok: false, retryMs: 200 });
      expect(await buckets.take('other', T0)).toEqual({ ok: true });
      expect(await buckets.take('ip', T0 + 200)).toEqual({ ok: true });
      expect(await buckets.take('ip', T0 + 200)).toEqual({ ok: false, retryMs: 200 });
    });

    it('say how long until the next token, take nothing when refusing, and never go above the burst', async () => {
      const buckets = await make(2, 1 / 1000);
      await buckets.take('k', T0);
      await buckets.take('k', T0);
      expect(await buckets.take('k', T0 + 250)).toEqual({ ok: false, retryMs: 750 });
      // The refusal took nothing: the token is whole a second after the last take.
      expect(await buckets.take('k', T0 + 1000)).toEqual({ ok: true });
      // A long idle time refills to the burst, not beyond.
      for (let i = 0; i < 2; i++) expect((await buckets.take('k', T0 + 3_600_000)).ok).toBe(true);
      expect((await buckets.take('k', T0 + 3_600_000)).ok).toBe(false);
    });

    it('look without taking', async () => {
      const buckets = await make(1, 1 / 1000);
      expect(await buckets.available('k', T0)).toBe(true);
      expect(await buckets.available('k', T0)).toBe(true);
      expect((await buckets.take('k', T0)).ok).toBe(true);
      expect(await buckets.available('k', T0 + 999)).toBe(false);
      expect(await buckets.available('k', T0 + 1000)).toBe(true);
    });

    it('do not refill when the clock goes back (another node behind this one)', async () => {
      const buckets = await make(1, 1 / 1000);
      expect((await buckets.take('k', T0)).ok).toBe(true);
      expect((await buckets.take('k', T0 - 5000)).ok).toBe(false);
    });

    it('never refill when the rate is 0', async () => {
      const buckets = await make(1, 0);
      expect((await buckets.take('k', T0)).ok).toBe(true);
      expect(await buckets.take('k', T0 + 86_400_000)).toEqual({ ok: false, retryMs: Infinity });
    });
  });
}
