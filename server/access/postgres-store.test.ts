/**
 * The Postgres AccessStore against the AccessStore conformance suite (a new database each
 * time), and its quotas under creators racing on several pools, as on several nodes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { postgresDatabases } from '../test-engines/databases.ts';
import { openPostgresAccessStore } from './postgres-store.ts';
import { accessStoreConformance } from './store.conformance.ts';
import type { AccessStore, NewReservation } from './store.ts';

const newDatabase = postgresDatabases();

accessStoreConformance('postgres', async () => openPostgresAccessStore(await newDatabase()));

describe('Postgres AccessStore on several nodes', () => {
  const nodes: AccessStore[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((s) => s.close()));
  });
  const T0 = 1_800_000_000_000;
  const DAY = 24 * 3_600_000;
  const reservation = (n: number, holder: NewReservation['holder']): NewReservation => ({
    shareId: `race${String(n).padStart(12, '0')}`,
    kind: 'share',
    requestId: null,
    holder,
    bytes: 100,
    files: 1,
    createdAt: T0,
    expiresAt: T0 + DAY,
  });

  it('never lets racing reservations pass a key quota or the storage cap together', async () => {
    const url = await newDatabase();
    for (let i = 0; i < 4; i++) nodes.push(await openPostgresAccessStore(url));
    const on = (i: number) => nodes[i % nodes.length]!;
    const perKey = { storageCap: null, stored: 500, daily: 700, windowMs: DAY };
    const keyed = await Promise.all(
      Array.from({ length: 30 }, (_, i) => on(i).reserve(reservation(i, { keyId: 'k1' }), perKey, T0)),
    );
    expect(keyed.filter((r) => r.outcome === 'reserved')).toHaveLength(5);
    expect(keyed.filter((r) => r.outcome === 'stored')).toHaveLength(25);

    const capped = { storageCap: 1500, stored: null, daily: null, windowMs: DAY };
    const networks = await Promise.all(
      Array.from({ length: 30 }, (_, i) => on(i).reserve(reservation(100 + i, { network: `n${i % 3}` }), capped, T0)),
    );
    // 500 already held by k1: ten more fit under the cap of 1500.
    expect(networks.filter((r) => r.outcome === 'reserved')).toHaveLength(10);
    expect(await nodes[0]!.storedBytes()).toBe(1500);
    // The same share asked for on every node at once is reserved once.
    const same = await Promise.all(nodes.map((s) => s.reserve(reservation(999, { network: 'n9' }), perKey, T0)));
    expect(same.filter((r) => r.outcome === 'reserved')).toHaveLength(1);
    expect(same.filter((r) => r.outcome === 'exists')).toHaveLength(3);
  });
});
