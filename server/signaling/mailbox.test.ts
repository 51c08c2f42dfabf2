/**
 * The PairMailbox contract, run against the memory store, the SQLite one (a fresh file
 * per test, and one test reopens the file to show boxes outlive a restart) and the Postgres
 * one (a fresh database per test, and racing writers on several pools).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../sqlite.ts';
import { postgresDatabases } from '../test-engines/databases.ts';
import {
  itemBytes,
  MAILBOX_MAX_BYTES,
  MAILBOX_MAX_ITEMS,
  MAILBOX_MAX_TTL_MS,
  type MailItem,
  MemoryPairMailbox,
  type PairMailbox,
} from './mailbox.ts';
import { openPostgresSignalingStores } from './postgres-signaling.ts';
import { openSqliteSignalingStores, SIGNALING_MIGRATIONS, type SignalingStores } from './sqlite-signaling.ts';

// Registered first, so its databases are dropped after the stores below are closed.
const newDatabase = postgresDatabases();
const dir = mkdtempSync(path.join(tmpdir(), 'ferry-mailbox-'));
const opened: SignalingStores[] = [];
let files = 0;
afterAll(async () => {
  for (const stores of opened) await stores.close();
  rmSync(dir, { recursive: true, force: true });
});
/** A new SQLite file's stores, closed after the suite. */
function sqliteStores(file = path.join(dir, `signaling-${files++}.db`)): SignalingStores {
  const stores = openSqliteSignalingStores(file);
  opened.push(stores);
  return stores;
}
/** A new Postgres database's stores, closed after the suite. */
async function postgresStores(url?: string): Promise<SignalingStores> {
  const stores = await openPostgresSignalingStores(url ?? (await newDatabase()));
  opened.push(stores);
  return stores;
}

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

describe.each([
  ['MemoryPairMailbox', async (): Promise<PairMailbox> => new MemoryPairMailbox()],
  ['the SQLite mailbox', async (): Promise<PairMailbox> => sqliteStores().mailbox],
  ['the Postgres mailbox', async (): Promise<PairMailbox> => (await postgresStores()).mailbox],
])('%s', (_, open) => {
  it('hands each device only what was left for it, once, oldest first', async () => {
    const mailbox = await open();
    await mailbox.put(ROOM, item(A, B, 1), 0);
    await mailbox.put(ROOM, item(B, A, 2), 0);
    await mailbox.put(ROOM, item(A, B, 3), 0);
    expect((await mailbox.take(ROOM, B, 1)).map((m) => m.data)).toEqual([box(1), box(3)]);
    expect(await mailbox.take(ROOM, B, 1)).toEqual([]);
    expect(await mailbox.take(`pair:${'o'.repeat(16)}`, A, 1)).toEqual([]);
    expect((await mailbox.take(ROOM, A, 1)).map((m) => m.data)).toEqual([box(2)]);
  });

  it('forgets a box when it expires, and never keeps one longer than a relay share lives', async () => {
    const mailbox = await open();
    await mailbox.put(ROOM, item(A, B, 1, 100), 0);
    await mailbox.put(ROOM, item(A, B, 2, 10 * MAILBOX_MAX_TTL_MS), 0);
    expect((await mailbox.take(ROOM, B, 99)).map((m) => m.expiresAt)).toEqual([100, MAILBOX_MAX_TTL_MS]);
    await mailbox.put(ROOM, item(A, B, 3, 100), 0);
    await mailbox.sweep(100);
    expect(await mailbox.take(ROOM, B, 50)).toEqual([]);
    await expect(mailbox.put(ROOM, item(A, B, 4, 100), 100)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('refuses more than MAILBOX_MAX_ITEMS boxes per room with MAILBOX_FULL, and takes more once some are handed over', async () => {
    const mailbox = await open();
    for (let n = 0; n < MAILBOX_MAX_ITEMS; n++) await mailbox.put(ROOM, item(A, B, n), 0);
    await expect(mailbox.put(ROOM, item(B, A, 99), 0)).rejects.toMatchObject({ code: 'MAILBOX_FULL' });
    await mailbox.put(`pair:${'o'.repeat(16)}`, item(A, B, 99), 0);
    expect(await mailbox.take(ROOM, B, 0)).toHaveLength(MAILBOX_MAX_ITEMS);
    await mailbox.put(ROOM, item(B, A, 99), 0);
  });

  it('lets only the device that left a box withdraw it, and only while it waits', async () => {
    const mailbox = await open();
    const first = await mailbox.put(ROOM, item(A, B, 1), 0);
    const second = await mailbox.put(ROOM, item(A, B, 2), 0);
    const other = await mailbox.put(`pair:${'o'.repeat(16)}`, item(A, B, 3), 0);
    expect(new Set([first, second, other]).size).toBe(3);
    for (const id of [first, second]) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    // Not the device it is for, not from another room, not under another box's id.
    expect(await mailbox.withdraw(ROOM, first, B, 1)).toBe(false);
    expect(await mailbox.withdraw(`pair:${'o'.repeat(16)}`, first, A, 1)).toBe(false);
    expect(await mailbox.withdraw(ROOM, other, A, 1)).toBe(false);
    expect(await mailbox.withdraw(ROOM, first, A, 1)).toBe(true);
    expect(await mailbox.withdraw(ROOM, first, A, 1)).toBe(false);
    expect((await mailbox.take(ROOM, B, 1)).map((m) => m.data)).toEqual([box(2)]);
    // Handed over already: nothing left to withdraw.
    expect(await mailbox.withdraw(ROOM, second, A, 1)).toBe(false);
  });

  it('does not withdraw an expired box, and a withdrawn box frees its room', async () => {
    const mailbox = await open();
    const late = await mailbox.put(ROOM, item(A, B, 1, 100), 0);
    expect(await mailbox.withdraw(ROOM, late, A, 100)).toBe(false);
    const ids = [];
    for (let n = 0; n < MAILBOX_MAX_ITEMS; n++) ids.push(await mailbox.put(ROOM, item(A, B, n), 100));
    await expect(mailbox.put(ROOM, item(A, B, 99), 100)).rejects.toMatchObject({ code: 'MAILBOX_FULL' });
    expect(await mailbox.withdraw(ROOM, ids[3]!, A, 100)).toBe(true);
    await mailbox.put(ROOM, item(A, B, 99), 100);
  });

  it('refuses boxes past MAILBOX_MAX_BYTES per room; expired ones no longer count', async () => {
    const mailbox = await open();
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

describe('the SQLite mailbox', () => {
  it('keeps its boxes across a reopen of the file (a server restart)', async () => {
    const file = path.join(dir, 'restart.db');
    const first = openSqliteSignalingStores(file);
    await first.mailbox.put(ROOM, item(A, B, 1), 0);
    await first.mailbox.put(ROOM, item(A, B, 2), 0);
    await first.close();
    const again = sqliteStores(file);
    expect((await again.mailbox.take(ROOM, B, 1)).map((m) => m.data)).toEqual([box(1), box(2)]);
    expect(await again.mailbox.take(ROOM, B, 1)).toEqual([]);
  });

  it('opens a file the version before box ids wrote: its boxes are handed over, new ones get ids', async () => {
    // signaling.db as the version before box ids left it (migrations only ever append), two boxes waiting.
    const file = path.join(dir, 'before-box-ids.db');
    const old = openDatabase(file, SIGNALING_MIGRATIONS.slice(0, 1));
    const insert = old.prepare(
      'INSERT INTO mail (room, from_device, to_device, data, bytes, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const n of [1, 2]) insert.run(ROOM, A, B, JSON.stringify(box(n)), itemBytes(item(A, B, n)), 1000);
    old.close();

    const stores = sqliteStores(file);
    const added = await stores.mailbox.put(ROOM, item(A, B, 3), 0);
    expect(added).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const again = await stores.mailbox.put(ROOM, item(A, B, 4), 0);
    expect(await stores.mailbox.withdraw(ROOM, again, A, 1)).toBe(true);
    expect((await stores.mailbox.take(ROOM, B, 1)).map((m) => m.data)).toEqual([box(1), box(2), box(3)]);
    await stores.close();
    const reopened = new Database(file, { readonly: true });
    expect(reopened.pragma('user_version', { simple: true })).toBe(SIGNALING_MIGRATIONS.length);
    reopened.close();
  });
});

describe('the Postgres mailbox', () => {
  it('keeps its boxes for another node: what one pool left, another hands over, once', async () => {
    const url = await newDatabase();
    const [a, b] = [await postgresStores(url), await postgresStores(url)];
    await a.mailbox.put(ROOM, item(A, B, 1), 0);
    await b.mailbox.put(ROOM, item(A, B, 2), 0);
    const [first, second] = await Promise.all([a.mailbox.take(ROOM, B, 1), b.mailbox.take(ROOM, B, 1)]);
    expect([...first, ...second].map((m) => m.data).sort()).toEqual([box(1), box(2)].sort());
    expect(await a.mailbox.take(ROOM, B, 1)).toEqual([]);
  });

  it(`never holds more than MAILBOX_MAX_ITEMS boxes when nodes put into one room at once`, async () => {
    const url = await newDatabase();
    const nodes = [await postgresStores(url), await postgresStores(url), await postgresStores(url)];
    const puts = await Promise.allSettled(
      Array.from({ length: 40 }, (_, n) => nodes[n % nodes.length]!.mailbox.put(ROOM, item(A, B, n), 0)),
    );
    expect(puts.filter((p) => p.status === 'fulfilled')).toHaveLength(MAILBOX_MAX_ITEMS);
    for (const p of puts) if (p.status === 'rejected') expect(p.reason).toMatchObject({ code: 'MAILBOX_FULL' });
    expect(await nodes[2]!.mailbox.take(ROOM, B, 1)).toHaveLength(MAILBOX_MAX_ITEMS);
  });
});
