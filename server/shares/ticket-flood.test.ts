/**
 * Issue 9, found 2: a flood of download tickets for a share of 1,000 files grew ferry.db +
 * WAL by ~160 KiB per ticket (303 tickets: 4.0 → 52.4 MiB), without any limit. Now grants
 * are rate-limited per client network and per share, a share holds at most
 * maxOpenPerShare open tickets, a ticket's record is a few hundred bytes, and ended tickets
 * are forgotten. Run with the real defaults for tickets.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../../shared/keys.ts';
import { MAX_FILES } from '../../shared/limits.ts';
import { defaultConfig } from '../config.ts';
import { api, createTestShare, errorCode, startTestServer, type TestServer, type TestShare } from '../test-support.ts';

const DEFAULTS = defaultConfig().tickets;
const MIB = 1024 * 1024;
/** What the flood below may add to ferry.db + WAL: the WAL alone may reach ~4 MiB before SQLite checkpoints it. */
const GROWTH_BOUND = 5 * MIB;
/** What it may add to the database's own pages (as a reader sees them, through the WAL). */
const PAGES_BOUND = 256 * 1024;

let ferry: TestServer;

function pageBytes(): number {
  const db = new Database(path.join(ferry.dataDir, 'ferry.db'), { readonly: true });
  try {
    return (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  // Trusting loopback as a proxy lets the test speak for many client networks (X-Forwarded-For).
  ferry = await startTestServer({ tickets: DEFAULTS, trustedProxies: ['127.0.0.1'] });
});
afterAll(async () => {
  await ferry.stop();
});

const dbBytes = () =>
  ['ferry.db', 'ferry.db-wal'].reduce((sum, name) => {
    try {
      return sum + statSync(path.join(ferry.dataDir, name)).size;
    } catch {
      return sum;
    }
  }, 0);

function askTicket(share: TestShare, from: string) {
  return api(ferry.url, 'POST', `/api/shares/${share.id}/downloads`, {
    token: share.readerToken,
    body: { files: Array.from({ length: MAX_FILES }, (_, i) => i) },
    headers: { 'X-Forwarded-For': from },
  });
}

/** `count` ticket requests, four at a time (the four loops), each from `from(i)`. */
async function flood(share: TestShare, count: number, from: (i: number) => string) {
  const answers: Awaited<ReturnType<typeof askTicket>>[] = [];
  for (let i = 0; i < count; i += 4) {
    answers.push(...(await Promise.all([0, 1, 2, 3].map((k) => askTicket(share, from(i + k))))));
  }
  return answers;
}

describe('download ticket flood', () => {
  it('is refused with 429 and Retry-After, the database stays small, and ended tickets are forgotten', async () => {
    // No upload needed: tickets are granted while a share is still uploading.
    const share = await createTestShare(
      ferry.url,
      Array.from({ length: MAX_FILES }, () => ({ size: 16 })),
    );
    const before = dbBytes();
    const pagesBefore = pageBytes();

    // One client: its bucket's burst, then refusals.
    const one = await flood(share, 200, () => '198.51.100.7');
    const granted = one.filter((a) => a.status === 201);
    expect(granted).toHaveLength(DEFAULTS.perClient.burst);
    const refused = one.filter((a) => a.status !== 201);
    expect(refused.every((a) => a.status === 429 && errorCode(a) === 'RATE_LIMITED')).toBe(true);
    expect(Number(refused[0]!.headers.get('Retry-After'))).toBeGreaterThan(0);

    // Many clients: the share's own bucket, then (buckets refilled, tickets still open) the cap.
    const many = await flood(share, 200, (i) => `203.0.113.${i % 250}`);
    expect(many.filter((a) => a.status === 201)).toHaveLength(DEFAULTS.perShare.burst - DEFAULTS.perClient.burst);
    expect(many.filter((a) => a.status !== 201).every((a) => errorCode(a) === 'RATE_LIMITED')).toBe(true);
    let open = DEFAULTS.perShare.burst;
    for (let round = 1; open < DEFAULTS.maxOpenPerShare; round++) {
      ferry.clock.advance(2 * 60_000); // refills the buckets; tickets idle only after 10 minutes
      const more = await flood(share, 200, (i) => `192.0.2.${(i + 200 * round) % 250}`);
      const grantedNow = more.filter((a) => a.status === 201).length;
      expect(grantedNow).toBeGreaterThan(0);
      open += grantedNow;
      granted.push(...more.filter((a) => a.status === 201));
    }
    expect(open).toBe(DEFAULTS.maxOpenPerShare);
    ferry.clock.advance(2 * 60_000);
    const capped = await askTicket(share, '192.0.2.99');
    expect(capped.status).toBe(429);
    expect(capped.json).toMatchObject({ error: { code: 'RATE_LIMITED', message: expect.stringMatching(/under way/) } });
    expect(capped.headers.get('Retry-After')).toBe('60');

    const growth = dbBytes() - before;
    const pages = pageBytes() - pagesBefore;
    console.log(
      `ticket flood: ${open} tickets, ferry.db + WAL +${(growth / 1024).toFixed(0)} KiB, pages +${(pages / 1024).toFixed(0)} KiB`,
    );
    expect(growth).toBeLessThan(GROWTH_BOUND);
    expect(pages).toBeLessThan(PAGES_BOUND);

    // Idle tickets lapse, and two idle periods later they are forgotten.
    ferry.clock.advance(2 * ferry.config.ticketIdleMs + 1);
    await ferry.sweeper.sweep();
    const first = (granted[0]!.json as { ticket: string }).ticket;
    expect(await ferry.shares.getTicket(await tokenHash(first))).toBeUndefined();
    expect((await askTicket(share, '192.0.2.99')).status).toBe(201);
  });
});
