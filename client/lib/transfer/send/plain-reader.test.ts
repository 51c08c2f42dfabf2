import { blake3, createBLAKE3 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../../shared/encoding.ts';
import { type HashNews, PlainReader } from './plain-reader.ts';

async function setup(size: number, every: number) {
  const file = randomBytes(size);
  const reads: [number, number][] = [];
  const news: HashNews[] = [];
  const reader = new PlainReader(
    async (s, e) => {
      reads.push([s, e]);
      return file.slice(s, e);
    },
    size,
    { checkpointEvery: every, hasher: await createBLAKE3(), report: (n) => news.push(n) },
  );
  return { file, reads, news, reader };
}

/** Slices of `step` bytes that overlap by `overlap` (records straddling chunk edges). */
function slices(size: number, step: number, overlap: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < size; s += step) out.push([Math.max(0, s - overlap), Math.min(size, s + step)]);
  return out;
}

describe('PlainReader', () => {
  for (const [size, step, every] of [
    [10_000, 1000, 4096],
    [10_000, 3000, 4096],
    [10_000, 4096, 4096],
    [8192, 8192, 4096],
    [5000, 777, 1000],
    [1, 1, 4096],
    [0, 1, 4096],
  ] as const) {
    it(`hashes the whole file while serving ${step}-byte slices of ${size} (checkpoints every ${every})`, async () => {
      const { file, reads, news, reader } = await setup(size, every);
      for (const [s, e] of size === 0 ? ([[0, 0]] as [number, number][]) : slices(size, step, 17)) {
        expect(await reader.plain(s, e)).toEqual(file.slice(s, e));
      }
      const checkpoints = news.filter((n) => n.type === 'checkpoint');
      const expected: HashNews[] = [];
      for (let o = every; o < size; o += every)
        expected.push({ type: 'checkpoint', offset: o, digest: await blake3(file.subarray(0, o)) });
      expect(checkpoints).toEqual(expected);
      expect(news.at(-1)).toEqual({ type: 'hashed', digest: await blake3(file) });
      expect(news.some((n) => n.type === 'unhashed')).toBe(false);
      // With chunks that divide the checkpoint spacing (8 and 16 MiB in the app), each byte
      // is read once, plus the overlap per read; otherwise a read may start inside the last.
      const total = reads.reduce((a, [s, e]) => a + e - s, 0);
      expect(total).toBeLessThanOrEqual(every % step === 0 ? size + 17 * reads.length : 2 * size);
    });
  }

  it('reports every checkpoint before serving bytes past it (checkpoint, then encrypt)', async () => {
    const { news, reader } = await setup(10_000, 4096);
    await reader.plain(0, 1000);
    expect(news).toEqual([{ type: 'checkpoint', offset: 4096, digest: expect.any(String) }]);
    await reader.plain(983, 4200);
    expect(news.map((n) => (n.type === 'checkpoint' ? n.offset : n.type))).toEqual([4096, 8192]);
  });

  it('a retry from an earlier offset is served again and changes no digest', async () => {
    const { file, news, reader } = await setup(10_000, 4096);
    await reader.plain(0, 3000);
    await reader.plain(2990, 6000);
    expect(await reader.plain(0, 3000)).toEqual(file.slice(0, 3000)); // tus went back to 0
    for (const [s, e] of slices(10_000, 3000, 10)) expect(await reader.plain(s, e)).toEqual(file.slice(s, e));
    expect(news.at(-1)).toEqual({ type: 'hashed', digest: await blake3(file) });
    expect(news.filter((n) => n.type === 'checkpoint').map((n) => n.type === 'checkpoint' && n.offset)).toEqual([
      4096, 8192,
    ]);
  });

  it('a read past the hashed prefix gives up hashing once, and still serves bytes', async () => {
    const { file, news, reader } = await setup(20_000, 4096);
    await reader.plain(0, 1000); // hashed to 4096
    expect(await reader.plain(9000, 12_000)).toEqual(file.slice(9000, 12_000));
    expect(await reader.plain(12_000, 20_000)).toEqual(file.slice(12_000, 20_000));
    expect(news.map((n) => n.type)).toEqual(['checkpoint', 'unhashed']);
  });

  it('a file that shrank fails with CONTENT_CHANGED', async () => {
    const file = randomBytes(5000);
    const reader = new PlainReader(async (s, e) => file.slice(s, Math.min(e, 3000)), 5000, {
      checkpointEvery: 4096,
      hasher: await createBLAKE3(),
    });
    await expect(reader.plain(0, 1000)).rejects.toThrow(/changed size/);
  });
});
