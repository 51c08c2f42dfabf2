import { createBLAKE3 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import { CoverageGate, checkContent, checkpointDecision, expectedContent } from './content-check.ts';

const hasher = {
  async hash(file: Blob, { end }: { end: number }) {
    const h = (await createBLAKE3()).init();
    h.update(new Uint8Array(await file.slice(0, end).arrayBuffer()));
    return h.digest('hex');
  },
};

const bytes = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 7 + seed) & 0xff);

describe('content check', () => {
  it('prefers the full hash, then the checkpoint', () => {
    expect(expectedContent({ size: 9, blake3: 'f'.repeat(64), checkpoint: { offset: 4, digest: 'a' } })).toEqual({
      offset: 9,
      digest: 'f'.repeat(64),
    });
    expect(expectedContent({ size: 9, blake3: null, checkpoint: null })).toBeNull();
  });

  it('accepts the same bytes and refuses a change inside the checkpointed prefix', async () => {
    const original = bytes(1000);
    const digest = await hasher.hash(new Blob([original]), { end: 600 });
    const sent = { name: 'a.bin', size: 1000, blake3: null, checkpoint: { offset: 600, digest } };
    await expect(checkContent(new Blob([original]), sent, hasher)).resolves.toBeNull();
    const changed = original.slice();
    changed[10] = (changed[10] ?? 0) ^ 1;
    await expect(checkContent(new Blob([changed]), sent, hasher)).rejects.toMatchObject({ code: 'CONTENT_CHANGED' });
  });

  it('refuses another size before hashing', async () => {
    const sent = { name: 'a.bin', size: 5, blake3: null, checkpoint: null };
    const error = await checkContent(new Blob([bytes(6)]), sent, hasher).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('CONTENT_CHANGED');
  });

  it('returns the full hash when the full file was checked', async () => {
    const file = new Blob([bytes(50)]);
    const full = await hasher.hash(file, { end: 50 });
    expect(await checkContent(file, { name: 'x', size: 50, blake3: full, checkpoint: null }, hasher)).toBe(full);
  });
});

describe('CoverageGate', () => {
  it('releases waiters once a checkpoint covers them, in any order', async () => {
    const gate = new CoverageGate();
    const order: number[] = [];
    const a = gate.wait(10).then(() => order.push(10));
    const b = gate.wait(5).then(() => order.push(5));
    gate.raise(7);
    await b;
    expect(order).toEqual([5]);
    gate.raise(10);
    await a;
    expect(order).toEqual([5, 10]);
    await expect(gate.wait(3)).resolves.toBeUndefined();
  });

  it('fails waiters when hashing fails', async () => {
    const gate = new CoverageGate();
    const waiting = gate.wait(1);
    gate.fail(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    await expect(gate.wait(2)).rejects.toThrow('gone');
  });
});

describe('checkpointDecision', () => {
  const ours = { offset: 16, digest: 'aa' };
  it("opens the gate only when the stored checkpoint is this run's own digest", () => {
    expect(checkpointDecision(ours, ours)).toBe('raise');
    expect(checkpointDecision(ours, { offset: 16, digest: 'aa' })).toBe('raise');
  });
  it('does not open it when another run stored a larger checkpoint (two tabs, one share)', () => {
    expect(checkpointDecision(ours, { offset: 32, digest: 'bb' })).toBe('wait');
  });
  it('refuses when the same prefix was stored with another digest', () => {
    expect(checkpointDecision(ours, { offset: 16, digest: 'bb' })).toBe('changed');
  });
  it('stops when the share is no longer stored', () => {
    expect(checkpointDecision(ours, null)).toBe('gone');
  });
});
