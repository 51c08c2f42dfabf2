/**
 * What every AccessStore must do, as a suite any implementation runs:
 * `accessStoreConformance('sqlite', () => openSqliteAccessStore(file))`. A Postgres store
 * passes this before it replaces SQLite.
 */
import { describe, expect, it } from 'vitest';
import { closedAfterEach } from '../store-harness.ts';
import type { AccessStore, NewReservation, ReserveLimits } from './store.ts';

const T0 = 1_800_000_000_000;
const DAY = 24 * 60 * 60 * 1000;
const NONE: ReserveLimits = { storageCap: null, stored: null, daily: null, windowMs: DAY };
let serial = 0;

function reservation(bytes: number, extra: Partial<NewReservation> = {}): NewReservation {
  serial++;
  return {
    shareId: `share${String(serial).padStart(11, '0')}`,
    kind: 'share',
    requestId: null,
    holder: { keyId: 'key1' },
    bytes,
    files: 1,
    createdAt: T0,
    expiresAt: T0 + DAY,
    ...extra,
  };
}

export function accessStoreConformance(name: string, makeStore: () => AccessStore | Promise<AccessStore>): void {
  describe(`AccessStore conformance: ${name}`, () => {
    const store = closedAfterEach(makeStore);

    it('keeps upload keys by hash, lists them newest first and revokes once', async () => {
      const s = await store();
      const key = { label: 'a', maxStoredBytes: 10, maxDailyBytes: null, expiresAt: null };
      await s.createKey({ ...key, id: 'key1', hash: 'a'.repeat(64), createdAt: T0 });
      await s.createKey({ ...key, id: 'key2', hash: 'b'.repeat(64), createdAt: T0 + 1, label: 'b' });
      expect(await s.keyByHash('a'.repeat(64))).toMatchObject({ id: 'key1', label: 'a', maxStoredBytes: 10 });
      expect(await s.keyByHash('c'.repeat(64))).toBeUndefined();
      expect((await s.listKeys()).map((k) => k.id)).toEqual(['key2', 'key1']);
      expect(await s.revokeKey('key1', T0 + 5)).toBe(true);
      expect(await s.revokeKey('key1', T0 + 9)).toBe(true);
      expect((await s.getKey('key1'))?.revokedAt).toBe(T0 + 5);
      expect(await s.revokeKey('nope', T0)).toBe(false);
    });

    it("refuses a holder's stored bytes at the exact byte and frees them on release", async () => {
      const s = await store();
      const limits = { ...NONE, stored: 1000 };
      expect(await s.reserve(reservation(600), limits, T0)).toEqual({ outcome: 'reserved' });
      const last = reservation(400);
      expect(await s.reserve(reservation(401), limits, T0)).toEqual({ outcome: 'stored', used: 600 });
      expect(await s.reserve(last, limits, T0)).toEqual({ outcome: 'reserved' });
      expect(await s.reserve(reservation(1), limits, T0)).toEqual({ outcome: 'stored', used: 1000 });
      // Another holder is not affected.
      expect(await s.reserve(reservation(1000, { holder: { network: '10.0.0.1' } }), limits, T0)).toEqual({
        outcome: 'reserved',
      });
      await s.release(last.shareId, T0 + 1);
      expect(await s.reserve(reservation(400), limits, T0 + 2)).toEqual({ outcome: 'reserved' });
      expect(await s.keyUsage('key1', T0 + 2, DAY)).toEqual({ storedBytes: 1000, windowBytes: 1400, liveShares: 2 });
    });

    it('counts a window of reserved bytes, released ones too, and says when more fits', async () => {
      const s = await store();
      const limits = { ...NONE, daily: 1000 };
      const holder = { network: '2001:db8:1:2::/64' };
      const first = reservation(300, { holder, createdAt: T0 });
      expect((await s.reserve(first, limits, T0)).outcome).toBe('reserved');
      expect((await s.reserve(reservation(500, { holder, createdAt: T0 + 10 }), limits, T0 + 10)).outcome).toBe(
        'reserved',
      );
      await s.release(first.shareId, T0 + 20);
      // 800 used in the window: 200 fits exactly, 201 does not until the first 300 age out.
      expect(await s.reserve(reservation(201, { holder }), limits, T0 + 30)).toEqual({
        outcome: 'daily',
        used: 800,
        retryAt: T0 + DAY,
      });
      // 600 needs both out of the window; more than the limit never fits.
      expect(await s.reserve(reservation(600, { holder }), limits, T0 + 30)).toMatchObject({ retryAt: T0 + 10 + DAY });
      expect(await s.reserve(reservation(1001, { holder }), limits, T0 + 30)).toMatchObject({ retryAt: null });
      expect((await s.reserve(reservation(200, { holder }), limits, T0 + 30)).outcome).toBe('reserved');
      // At T0 + DAY the first reservation has left the window.
      expect((await s.reserve(reservation(300, { holder }), limits, T0 + DAY)).outcome).toBe('reserved');
    });

    it('caps all live reservations together at the exact byte', async () => {
      const s = await store();
      const limits = { ...NONE, storageCap: 100 };
      expect((await s.reserve(reservation(60, { holder: null }), limits, T0)).outcome).toBe('reserved');
      expect(await s.reserve(reservation(41, { holder: { keyId: 'k' } }), limits, T0)).toEqual({
        outcome: 'storage-full',
        used: 60,
      });
      expect((await s.reserve(reservation(40, { holder: { network: 'n' } }), limits, T0)).outcome).toBe('reserved');
      expect(await s.storedBytes()).toBe(100);
    });

    it('reserves a share once, forgets an unreserved one and prunes released ones', async () => {
      const s = await store();
      const r = reservation(50);
      expect((await s.reserve(r, NONE, T0)).outcome).toBe('reserved');
      expect((await s.reserve({ ...r, bytes: 70 }, NONE, T0)).outcome).toBe('exists');
      expect(await s.storedBytes()).toBe(50);
      await s.setExpiry(r.shareId, T0 + 2 * DAY);
      expect((await s.liveReservations())[0]).toMatchObject({
        shareId: r.shareId,
        expiresAt: T0 + 2 * DAY,
        keyId: 'key1',
      });
      await s.unreserve(r.shareId);
      expect(await s.keyUsage('key1', T0, DAY)).toEqual({ storedBytes: 0, windowBytes: 0, liveShares: 0 });
      const dead = reservation(5);
      await s.reserve(dead, NONE, T0);
      await s.release(dead.shareId, T0 + 1);
      await s.release(dead.shareId, T0 + 7);
      expect(await s.liveReservations()).toEqual([]);
      expect(await s.pruneReleased(T0 + 1)).toBe(0);
      expect(await s.pruneReleased(T0 + 2)).toBe(1);
    });

    it('remembers request links and their key, and the admin hash once', async () => {
      const s = await store();
      await s.addRequestLink({ id: 'r1', keyId: 'key1', createdAt: T0 });
      await s.addRequestLink({ id: 'r2', keyId: null, createdAt: T0 + 1 });
      expect(await s.getRequestLink('r1')).toEqual({ id: 'r1', keyId: 'key1', createdAt: T0 });
      expect((await s.listRequestLinks()).map((l) => l.id)).toEqual(['r2', 'r1']);
      await s.forgetRequestLink('r1');
      expect(await s.getRequestLink('r1')).toBeUndefined();
      expect(await s.adminHash()).toBeNull();
      expect(await s.setAdminHash('d'.repeat(64))).toBe(true);
      expect(await s.setAdminHash('e'.repeat(64))).toBe(false);
      expect(await s.adminHash()).toBe('d'.repeat(64));
    });
  });
}
