import { describe, expect, it } from 'vitest';
import {
  itemBytes,
  MAILBOX_MAX_BYTES,
  MAILBOX_MAX_ITEMS,
  MAILBOX_MAX_TTL_MS,
  type MailItem,
  MemoryPairMailbox,
} from './mailbox.ts';

const ROOM = `pair:${'r'.repeat(16)}`;
const A = 'A'.repeat(16);
const B = 'B'.repeat(16);
const box = (n: number, extra = ''): Record<string, unknown> => ({ kind: 'offer', transfer: `t${n}`, box: extra });
const item = (from: string, to: string, n: number, expiresAt = 1000, extra = ''): MailItem => ({
  from,
  to,
  data: box(n, extra),
  expiresAt,
});

describe('MemoryPairMailbox', () => {
  it('hands each device only what was left for it, once, oldest first', async () => {
    const mailbox = new MemoryPairMailbox();
    await mailbox.put(ROOM, item(A, B, 1), 0);
    await mailbox.put(ROOM, item(B, A, 2), 0);
    await mailbox.put(ROOM, item(A, B, 3), 0);
    expect((await mailbox.take(ROOM, B, 1)).map((m) => m.data)).toEqual([box(1), box(3)]);
    expect(await mailbox.take(ROOM, B, 1)).toEqual([]);
    expect(await mailbox.take(`pair:${'o'.repeat(16)}`, A, 1)).toEqual([]);
    expect((await mailbox.take(ROOM, A, 1)).map((m) => m.data)).toEqual([box(2)]);
  });

  it('forgets a box when it expires, and never keeps one longer than a relay share lives', async () => {
    const mailbox = new MemoryPairMailbox();
    await mailbox.put(ROOM, item(A, B, 1, 100), 0);
    await mailbox.put(ROOM, item(A, B, 2, 10 * MAILBOX_MAX_TTL_MS), 0);
    expect((await mailbox.take(ROOM, B, 99)).map((m) => m.expiresAt)).toEqual([100, MAILBOX_MAX_TTL_MS]);
    await mailbox.put(ROOM, item(A, B, 3, 100), 0);
    await mailbox.sweep(100);
    expect(await mailbox.take(ROOM, B, 50)).toEqual([]);
    await expect(mailbox.put(ROOM, item(A, B, 4, 100), 100)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('refuses more than MAILBOX_MAX_ITEMS boxes per room with MAILBOX_FULL, and takes more once some are handed over', async () => {
    const mailbox = new MemoryPairMailbox();
    for (let n = 0; n < MAILBOX_MAX_ITEMS; n++) await mailbox.put(ROOM, item(A, B, n), 0);
    await expect(mailbox.put(ROOM, item(B, A, 99), 0)).rejects.toMatchObject({ code: 'MAILBOX_FULL' });
    await mailbox.put(`pair:${'o'.repeat(16)}`, item(A, B, 99), 0);
    expect(await mailbox.take(ROOM, B, 0)).toHaveLength(MAILBOX_MAX_ITEMS);
    await mailbox.put(ROOM, item(B, A, 99), 0);
  });

  it('refuses boxes past MAILBOX_MAX_BYTES per room; expired ones no longer count', async () => {
    const mailbox = new MemoryPairMailbox();
    const half = 'x'.repeat(MAILBOX_MAX_BYTES / 2);
    const big = item(A, B, 1, 100, half);
    expect(itemBytes(big)).toBeGreaterThan(MAILBOX_MAX_BYTES / 2);
    await mailbox.put(ROOM, big, 0);
    await expect(mailbox.put(ROOM, item(A, B, 2, 1000, half), 0)).rejects.toMatchObject({ code: 'MAILBOX_FULL' });
    await mailbox.put(ROOM, item(A, B, 2, 1000, half), 100);
    await mailbox.clear(ROOM);
    expect(await mailbox.take(ROOM, B, 100)).toEqual([]);
  });
});
