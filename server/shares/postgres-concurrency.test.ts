/**
 * The Postgres ShareStore's exact rules under real concurrency: several stores (one pool
 * each, as several nodes have) on one database, racing. Each rule here is one SQLite
 * transaction; on Postgres it must hold across connections.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresDatabases } from '../test-engines/databases.ts';
import { openPostgresShareStore } from './postgres-store.ts';
import { newShare } from './store.conformance.ts';
import type { ShareStore } from './store.ts';

const NODES = 4;
const T0 = 1_800_000_000_000;
const IDLE = 10 * 60 * 1000;
const hash = (n: number) => n.toString(16).padStart(64, '0');

const newDatabase = postgresDatabases();
let nodes: ShareStore[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((s) => s.close()));
});

/** NODES stores on one new database. */
async function cluster(): Promise<ShareStore[]> {
  const url = await newDatabase();
  // The first applies the schema; the rest find it applied.
  const first = await openPostgresShareStore(url);
  const rest = await Promise.all(Array.from({ length: NODES - 1 }, () => openPostgresShareStore(url)));
  nodes = [...nodes, first, ...rest];
  return [first, ...rest];
}

const on = (stores: ShareStore[], i: number) => stores[i % stores.length]!;
/** Asks `s` for ticket `n` of file 0; true when granted. */
const grant = async (s: ShareStore, shareId: string, n: number, now = T0, maxOpen = 1000) =>
  (await s.grantTicket({ hash: hash(n), shareId, files: [0], now, idleMs: IDLE, maxOpen })) === 'granted';

async function readyShare(s: ShareStore, size: number, maxDownloads: number | null) {
  const share = newShare([{ size }], { maxDownloads });
  expect(await s.createShare(share)).toBe('created');
  expect(await s.claimSlot(share.id, 0, `blob-${share.id}`, size, T0)).toBe('claimed');
  expect(await s.sealBlob(`blob-${share.id}`, 't'.repeat(43))).toBe(true);
  expect(await s.markReady(share.id)).toBe(true);
  return share;
}

describe('Postgres ShareStore under concurrency across pools', () => {
  it('grants exactly 3 tickets of 50 asked at once on four nodes, for a download limit of 3', async () => {
    const stores = await cluster();
    const share = await readyShare(stores[0]!, 10, 3);
    const granted = await Promise.all(
      Array.from({ length: 50 }, (_, i) => grant(on(stores, i), share.id, 1000 + i, T0)),
    );
    expect(granted.filter(Boolean)).toHaveLength(3);
  });

  it('grants exactly 3 of 50 asked at once on four nodes when 3 may be open at a time', async () => {
    const stores = await cluster();
    const share = await readyShare(stores[0]!, 10, null);
    const granted = await Promise.all(
      Array.from({ length: 50 }, (_, i) => grant(on(stores, i), share.id, 1500 + i, T0, 3)),
    );
    expect(granted.filter(Boolean)).toHaveLength(3);
  });

  it('counts 3 downloads, no more, when 50 racing recipients each try to fetch the whole file', async () => {
    const stores = await cluster();
    const share = await readyShare(stores[0]!, 10, 3);
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const s = on(stores, i);
        const ok = await grant(s, share.id, 2000 + i, T0);
        if (!ok) return 'refused';
        // Two requests of one recipient racing each other over the same bytes.
        const [a, b] = await Promise.all([
          s.recordCoverage(hash(2000 + i), 0, 0, 10, T0 + 1),
          on(stores, i + 1).recordCoverage(hash(2000 + i), 0, 0, 10, T0 + 1),
        ]);
        return [a, b].sort().join('+');
      }),
    );
    expect(outcomes.filter((o) => o !== 'refused')).toEqual([
      'completed+ignored',
      'completed+ignored',
      'completed+ignored',
    ]);
    expect((await stores[1]!.getShare(share.id))!.downloads).toBe(3);
    expect(await grant(stores[2]!, share.id, 2999, T0 + 2)).toBe(false);
  });

  it('lets one of many nodes claim a slot, and no one else', async () => {
    const stores = await cluster();
    const share = newShare([{ size: 100 }]);
    await stores[0]!.createShare(share);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => on(stores, i).claimSlot(share.id, 0, `upload-${i}`, 100, T0)),
    );
    expect(results.filter((r) => r === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r === 'in-progress')).toHaveLength(19);
    const claimed = results.indexOf('claimed');
    expect((await stores[3]!.getShare(share.id))!.slots[0]!.blobId).toBe(`upload-${claimed}`);
    for (let i = 0; i < 20; i++)
      expect(await stores[0]!.getBlob(`upload-${i}`)).toEqual(i === claimed ? expect.anything() : undefined);
  });

  it('counts each idle ticket once when grants and sweeps on several nodes lapse them together', async () => {
    const stores = await cluster();
    const share = await readyShare(stores[0]!, 10, 10);
    for (let i = 0; i < 10; i++) {
      expect(await grant(stores[0]!, share.id, 3000 + i, T0)).toBe(true);
      // Half of them sent bytes before going idle: those count when they lapse.
      if (i % 2 === 0) expect(await stores[0]!.recordCoverage(hash(3000 + i), 0, 0, 5, T0)).toBe('partial');
    }
    const later = T0 + IDLE + 1;
    const [lapses, grants] = await Promise.all([
      Promise.all(stores.map((s) => s.lapseTickets(later - IDLE))),
      Promise.all(Array.from({ length: 20 }, (_, i) => grant(on(stores, i), share.id, 3100 + i, later))),
    ]);
    expect(lapses.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10);
    const after = (await stores[1]!.getShare(share.id))!;
    expect(after.downloads).toBe(5);
    for (let i = 0; i < 10; i++) expect((await stores[2]!.getTicket(hash(3000 + i)))!.state).toBe('lapsed');
    // 10 places, 5 used by counted downloads: exactly 5 of the 20 new grants fit.
    expect(grants.filter(Boolean)).toHaveLength(5);
  });

  it('never forgets or removes a blob that a share created on another node at the same moment reuses', async () => {
    const stores = await cluster();
    let created = 0;
    for (let round = 0; round < 24; round++) {
      const source = await readyShare(stores[0]!, 10, null);
      const blobId = `blob-${source.id}`;
      const reuse = newShare([{ reuseBlobId: blobId }]);
      // The owner revokes the source on one node while a share reusing its blob is made on
      // another and a third sweeps: lists dead blobs (their files go), then purges.
      // The revoke starts 0-3 ms late, so that both orders occur.
      const [, result, swept] = await Promise.all([
        sleep(round % 4).then(() => stores[0]!.revokeShare(source.id, T0)),
        stores[1]!.createShare(reuse),
        (async () => [...(await stores[2]!.deadBlobs(T0 + 1)), ...(await stores[3]!.purgeDead(T0 + 1, 3_600_000))])(),
      ]);
      if (result === 'created') {
        created++;
        expect(swept).not.toContain(blobId);
        expect(await stores[3]!.getBlob(blobId)).toMatchObject({ sealed: true });
      } else {
        expect(result).toBe('blob-gone');
      }
    }
    // Both orders happen (a refused reuse is the revoke winning the race).
    expect(created).toBeGreaterThan(0);
  });
});
