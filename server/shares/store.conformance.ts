/**
 * What every ShareStore must do, as a suite any implementation runs:
 * `shareStoreConformance('sqlite', () => openSqliteShareStore(file))`. A later Redis or
 * Postgres store passes this before it replaces SQLite.
 */
import { describe, expect, it } from 'vitest';
import { closedAfterEach } from '../store-harness.ts';
import { MAX_PIECES } from './intervals.ts';
import type { NewShare, ShareStore } from './store.ts';

const IDLE = 10 * 60 * 1000;
const T0 = 1_800_000_000_000;
let serial = 0;

/** A share of `slots` with a fresh id, live for an hour from T0 (also used by get-file.test.ts). */
export function newShare(slots: NewShare['slots'], extra: Partial<NewShare> = {}): NewShare {
  serial++;
  return {
    id: `share${String(serial).padStart(11, '0')}`,
    ownerHash: 'a'.repeat(64),
    uploadHash: 'b'.repeat(64),
    readerHash: 'c'.repeat(64),
    manifest: 'manifest',
    createdAt: T0,
    expiresAt: T0 + 3_600_000,
    maxDownloads: null,
    password: null,
    slots,
    ...extra,
  };
}

const hash = (n: number) => n.toString(16).padStart(64, '0');

export function shareStoreConformance(name: string, makeStore: () => ShareStore | Promise<ShareStore>): void {
  describe(`ShareStore conformance: ${name}`, () => {
    const store = closedAfterEach(makeStore);

    /** A ready share whose file 0 (of `size` bytes) is sealed. */
    async function readyShare(s: ShareStore, size: number, maxDownloads: number | null) {
      const share = newShare([{ size }], { maxDownloads });
      expect(await s.createShare(share)).toBe('created');
      const blobId = `blob${serial}`;
      expect(await s.claimSlot(share.id, 0, blobId, size, T0)).toBe('claimed');
      expect(await s.sealBlob(blobId, 't'.repeat(43))).toBe(true);
      expect(await s.markReady(share.id)).toBe(true);
      return share;
    }
    const grant = async (s: ShareStore, shareId: string, n: number, now = T0) =>
      (await s.grantTicket({ hash: hash(n), shareId, files: [0], now, idleMs: IDLE, maxOpen: 1000 })) === 'granted';
    const downloads = async (s: ShareStore, id: string) => (await s.getShare(id))!.downloads;

    it('creates and reads shares; reuse needs a sealed blob', async () => {
      const s = await store();
      const share = newShare([{ size: 100 }, { size: 200 }]);
      expect(await s.createShare(share)).toBe('created');
      const read = (await s.getShare(share.id))!;
      expect(read).toMatchObject({ id: share.id, state: 'uploading', downloads: 0, purged: false });
      expect(read.slots.map((x) => [x.size, x.blobId, x.sealed])).toEqual([
        [100, null, false],
        [200, null, false],
      ]);
      expect(await s.getShare('nope')).toBeUndefined();
      expect(await s.claimSlot(share.id, 0, 'unsealed', 100, T0)).toBe('claimed');
      expect(await s.createShare(newShare([{ reuseBlobId: 'unsealed' }]))).toBe('blob-gone');
      expect(await s.createShare(newShare([{ reuseBlobId: 'missing' }]))).toBe('blob-gone');
      await s.sealBlob('unsealed', 't'.repeat(43));
      const reuse = newShare([{ reuseBlobId: 'unsealed' }]);
      expect(await s.createShare(reuse)).toBe('created');
      expect((await s.getShare(reuse.id))!.slots[0]).toMatchObject({ size: 100, sealed: true });
    });

    it('refuses a taken id, and a partial blob (one that starts mid-file) for reuse', async () => {
      const s = await store();
      const share = newShare([{ size: 100 }]);
      expect(await s.createShare(share)).toBe('created');
      expect(await s.createShare({ ...share, readerHash: 'other' })).toBe('id-taken');
      expect(await s.claimSlot(share.id, 0, 'part', 60, T0, 50)).toBe('length-mismatch');
      expect(await s.claimSlot(share.id, 0, 'part', 60, T0, 40)).toBe('claimed');
      expect(await s.getBlob('part')).toMatchObject({ size: 60, base: 40, sealed: false });
      expect((await s.getShare(share.id))!.slots[0]).toMatchObject({ size: 100, base: 40, blobId: 'part' });
      expect(await s.sealBlob('part', 't'.repeat(43))).toBe(true);
      expect(await s.createShare(newShare([{ reuseBlobId: 'part' }]))).toBe('blob-gone');
    });

    it('keeps the token hashes it was given, and writes nothing of a share refused for its id', async () => {
      // POST /api/shares answers a repeat with the same hashes as the same share: that holds
      // only if a refused insert leaves the first one's hashes and slots as they were.
      const s = await store();
      const share = newShare([{ size: 100 }], { ownerHash: hash(1), uploadHash: hash(2), readerHash: hash(3) });
      expect(await s.createShare(share)).toBe('created');
      const first = await s.getShare(share.id);
      expect(first).toMatchObject({ ownerHash: hash(1), uploadHash: hash(2), readerHash: hash(3) });
      const rival = { ownerHash: hash(4), uploadHash: hash(5), readerHash: hash(6), maxDownloads: 3 };
      expect(await s.createShare({ ...share, ...rival, slots: [{ size: 7 }, { size: 8 }] })).toBe('id-taken');
      expect(await s.createShare(share)).toBe('id-taken');
      expect(await s.getShare(share.id)).toEqual(first);
    });

    it('claims a slot once, tells in-progress from sealed, and frees it on release', async () => {
      const s = await store();
      const share = newShare([{ size: 100 }]);
      await s.createShare(share);
      expect(await s.claimSlot(share.id, 1, 'x', 100, T0)).toBe('no-slot');
      expect(await s.claimSlot(share.id, 0, 'x', 99, T0)).toBe('length-mismatch');
      expect(await s.claimSlot(share.id, 0, 'up1', 100, T0)).toBe('claimed');
      expect(await s.claimSlot(share.id, 0, 'up2', 100, T0)).toBe('in-progress');
      expect(await s.unsealedBlobsBefore(T0 + 1)).toContain('up1');
      await s.releaseBlob('up1');
      expect(await s.getBlob('up1')).toBeUndefined();
      expect(await s.claimSlot(share.id, 0, 'up2', 100, T0)).toBe('claimed');
      expect(await s.markReady(share.id)).toBe(false);
      expect(await s.sealBlob('up2', 't'.repeat(43))).toBe(true);
      expect(await s.sealBlob('up2', 'u'.repeat(43))).toBe(false);
      expect(await s.claimSlot(share.id, 0, 'up3', 100, T0)).toBe('sealed');
      await s.releaseBlob('up2'); // sealed: kept
      expect((await s.getBlob('up2'))?.sealed).toBe(true);
      expect(await s.markReady(share.id)).toBe(true);
      expect((await s.getShare(share.id))!.state).toBe('ready');
    });

    it('grants at most maxDownloads open tickets, even when asked all at once', async () => {
      const s = await store();
      const share = await readyShare(s, 10, 2);
      const granted = await Promise.all(Array.from({ length: 10 }, (_, i) => grant(s, share.id, 100 + i)));
      expect(granted.filter(Boolean)).toHaveLength(2);
    });

    it('counts a completed download exactly once', async () => {
      const s = await store();
      const share = await readyShare(s, 10, 1);
      expect(await grant(s, share.id, 1)).toBe(true);
      expect(await s.recordCoverage(hash(1), 0, 0, 4, T0)).toBe('partial');
      expect(await s.recordCoverage(hash(1), 0, 4, 10, T0)).toBe('completed');
      expect(await s.recordCoverage(hash(1), 0, 0, 10, T0)).toBe('ignored');
      expect(await downloads(s, share.id)).toBe(1);
      expect((await s.getTicket(hash(1)))!.state).toBe('done');
      expect(await grant(s, share.id, 2)).toBe(false);
    });

    it('lapses idle tickets: one that sent bytes counts, one that sent nothing frees its place', async () => {
      const s = await store();
      const share = await readyShare(s, 10, 2);
      expect(await grant(s, share.id, 1)).toBe(true);
      expect(await grant(s, share.id, 2)).toBe(true);
      await s.recordCoverage(hash(1), 0, 0, 5, T0);
      expect(await grant(s, share.id, 3, T0 + IDLE)).toBe(false);
      expect(await s.lapseTickets(T0 + 1)).toBe(2);
      expect(await downloads(s, share.id)).toBe(1);
      expect((await s.getTicket(hash(1)))!.state).toBe('lapsed');
      expect(await grant(s, share.id, 4, T0 + IDLE + 1)).toBe(true);
      expect(await grant(s, share.id, 5, T0 + IDLE + 1)).toBe(false);
    });

    it('grants thumbnail tickets only without a download limit; they never count, done or lapsed', async () => {
      const s = await store();
      const thumb = (shareId: string, n: number, now = T0) =>
        s.grantTicket({ hash: hash(n), shareId, files: [0], now, idleMs: IDLE, maxOpen: 1000, purpose: 'thumbnail' });
      const limited = await readyShare(s, 10, 1);
      expect(await thumb(limited.id, 1)).toBe('limited');
      expect(await s.getTicket(hash(1))).toBeUndefined();
      expect(await grant(s, limited.id, 2)).toBe(true);

      const open = await readyShare(s, 10, null);
      expect(await thumb(open.id, 3)).toBe('granted');
      expect((await s.getTicket(hash(3)))!.purpose).toBe('thumbnail');
      expect(await s.recordCoverage(hash(3), 0, 0, 10, T0)).toBe('ignored');
      expect((await s.getTicket(hash(3)))!.state).toBe('open');
      expect(await s.coverage(hash(3), 0)).toEqual([]);
      expect(await s.touchTicket(hash(3), T0 + 1, IDLE)).toBe(true);
      expect(await s.lapseTickets(T0 + IDLE + 2)).toBe(2); // 2 (sent nothing) and 3
      expect((await s.getTicket(hash(3)))!.state).toBe('lapsed');
      // Bytes reported after the lapse do not make it count either.
      expect(await s.recordCoverage(hash(3), 0, 0, 4, T0 + IDLE + 3)).toBe('ignored');
      expect(await downloads(s, open.id)).toBe(0);
      // A download ticket on the same share still counts as before.
      expect(await grant(s, open.id, 4, T0 + IDLE + 3)).toBe(true);
      expect((await s.getTicket(hash(4)))!.purpose).toBe('download');
      expect(await s.recordCoverage(hash(4), 0, 0, 10, T0 + IDLE + 3)).toBe('completed');
      expect(await downloads(s, open.id)).toBe(1);
    });

    it('lapses idle tickets of the share inside grantTicket, counting those that sent bytes', async () => {
      const s = await store();
      const share = await readyShare(s, 10, 1);
      expect(await grant(s, share.id, 1)).toBe(true);
      await s.recordCoverage(hash(1), 0, 0, 9, T0);
      expect(await grant(s, share.id, 2, T0 + IDLE + 1)).toBe(false);
      expect(await downloads(s, share.id)).toBe(1);
      // Bytes recorded after a lapse with nothing recorded make that ticket count then.
      const other = await readyShare(s, 10, 1);
      expect(await grant(s, other.id, 3)).toBe(true);
      expect(await grant(s, other.id, 4, T0 + IDLE + 1)).toBe(true);
      await s.recordCoverage(hash(3), 0, 0, 3, T0 + IDLE + 2);
      expect(await downloads(s, other.id)).toBe(1);
    });

    it('touches a ticket only while it is open and not idle', async () => {
      const s = await store();
      const share = await readyShare(s, 10, 1);
      await grant(s, share.id, 1);
      expect(await s.touchTicket(hash(1), T0 + IDLE, IDLE)).toBe(true);
      expect((await s.getTicket(hash(1)))!.lastActiveAt).toBe(T0 + IDLE);
      expect(await s.touchTicket(hash(1), T0 + 2 * IDLE + 1, IDLE)).toBe(false);
      expect((await s.getTicket(hash(1)))!.lastActiveAt).toBe(T0 + IDLE);
      expect(await s.touchTicket(hash(99), T0, IDLE)).toBe(false);
    });

    it(`keeps at most ${MAX_PIECES} covered pieces per ticket and file`, async () => {
      const s = await store();
      const share = await readyShare(s, 1000, null);
      await grant(s, share.id, 1);
      for (let i = 0; i <= MAX_PIECES; i++) await s.recordCoverage(hash(1), 0, 2 * i, 2 * i + 1, T0);
      const pieces = await s.coverage(hash(1), 0);
      expect(pieces).toHaveLength(MAX_PIECES);
      expect(pieces.at(-1)).toEqual([2 * (MAX_PIECES - 1), 2 * MAX_PIECES - 1]);
      expect(await s.recordCoverage(hash(1), 0, 0, 1000, T0)).toBe('completed');
      expect(await s.coverage(hash(1), 0)).toEqual([[0, 1000]]);
      expect(await s.coverage(hash(2), 0)).toEqual([]);
    });

    it('completes a ticket of many files, some empty, only when each was sent whole', async () => {
      const s = await store();
      const share = newShare([{ size: 10 }, { size: 0 }, { size: 20 }, { size: 5 }]);
      await s.createShare(share);
      const ticket = { hash: hash(7), shareId: share.id, now: T0, idleMs: IDLE, maxOpen: 10 };
      expect(await s.grantTicket({ ...ticket, files: [2, 0, 1, 2] })).toBe('granted');
      expect((await s.getTicket(hash(7)))!.files).toEqual([0, 1, 2]);
      expect(await s.recordCoverage(hash(7), 3, 0, 5, T0)).toBe('ignored'); // not named
      expect(await s.recordCoverage(hash(7), 0, 0, 10, T0)).toBe('partial');
      expect(await s.recordCoverage(hash(7), 0, 0, 10, T0)).toBe('partial'); // again: still one file
      expect(await s.recordCoverage(hash(7), 2, 5, 20, T0)).toBe('partial');
      expect(await s.coverage(hash(7), 2)).toEqual([[5, 20]]);
      expect(await s.recordCoverage(hash(7), 2, 0, 5, T0)).toBe('completed');
      expect(await downloads(s, share.id)).toBe(1);
    });

    it(`grants at most maxOpen open tickets per share; idle ones make room`, async () => {
      const s = await store();
      const share = await readyShare(s, 10, null);
      const ask = (n: number, now = T0) =>
        s.grantTicket({ hash: hash(200 + n), shareId: share.id, files: [0], now, idleMs: IDLE, maxOpen: 3 });
      const answers = await Promise.all([0, 1, 2, 3, 4].map((n) => ask(n)));
      expect(answers.filter((a) => a === 'granted')).toHaveLength(3);
      expect(answers.filter((a) => a === 'too-many-open')).toHaveLength(2);
      await s.recordCoverage(hash(200), 0, 0, 10, T0); // done: no longer open
      expect(await ask(5)).toBe('granted');
      expect(await ask(6)).toBe('too-many-open');
      expect(await ask(7, T0 + IDLE + 1)).toBe('granted');
      expect(
        await s.grantTicket({ hash: hash(9), shareId: 'nope', files: [0], now: T0, idleMs: IDLE, maxOpen: 3 }),
      ).toBe('gone');
    });

    it('forgets ended tickets last active before a time, with their coverage', async () => {
      const s = await store();
      const share = await readyShare(s, 10, null);
      for (const n of [1, 2, 3]) expect(await grant(s, share.id, n)).toBe(true);
      await s.recordCoverage(hash(1), 0, 0, 10, T0 + 5); // done at T0 + 5
      await s.recordCoverage(hash(2), 0, 0, 4, T0); // open, then lapsed
      expect(await s.lapseTickets(T0 + 1)).toBe(2); // 2 and 3
      expect(await s.forgetEndedTickets(T0 + 5)).toBe(2);
      expect(await s.getTicket(hash(2))).toBeUndefined();
      expect(await s.getTicket(hash(3))).toBeUndefined();
      expect(await s.coverage(hash(2), 0)).toEqual([]);
      expect((await s.getTicket(hash(1)))!.state).toBe('done');
      expect(await s.forgetEndedTickets(T0 + 6)).toBe(1);
      expect(await s.getTicket(hash(1))).toBeUndefined();
      expect(await downloads(s, share.id)).toBe(2); // forgetting keeps what was counted
    });

    it('purges dead shares to tombstones and forgets blobs nothing points at', async () => {
      const s = await store();
      const kept = await readyShare(s, 10, null);
      const dead = newShare([{ size: 10 }], { expiresAt: T0 + 1000 });
      await s.createShare(dead);
      await s.claimSlot(dead.id, 0, 'deadblob', 10, T0);
      await s.revokeShare(kept.id, T0);
      const orphans = await s.purgeDead(T0 + 2000, 7 * 24 * 3_600_000);
      expect(orphans.sort()).toEqual([`blob${serial - 1}`, 'deadblob'].sort());
      expect((await s.getShare(dead.id))!.purged).toBe(true);
      expect((await s.getShare(kept.id))!).toMatchObject({ purged: true, state: 'revoked' });
      expect(await s.unknownBlobs(['deadblob', 'other'])).toEqual(['deadblob', 'other']);
      await s.purgeDead(T0 + 8 * 24 * 3_600_000, 7 * 24 * 3_600_000);
      expect(await s.getShare(dead.id)).toBeUndefined();
    });

    it('counts live shares, stored bytes and tickets by state for /metrics', async () => {
      const s = await store();
      expect(await s.stats(T0)).toEqual({ liveShares: 0, storedBytes: 0, tickets: { open: 0, done: 0, lapsed: 0 } });
      const ready = await readyShare(s, 100, null);
      const unfinished = newShare([{ size: 30 }, { size: 40 }], { expiresAt: T0 + 1000 });
      await s.createShare(unfinished);
      await s.claimSlot(unfinished.id, 1, 'unfinished', 40, T0);
      const revoked = newShare([{ size: 5 }]);
      await s.createShare(revoked);
      await s.revokeShare(revoked.id, T0);
      await grant(s, ready.id, 1);
      await grant(s, ready.id, 2);
      await s.recordCoverage(hash(2), 0, 0, 100, T0);
      await grant(s, ready.id, 3);
      await s.lapseTickets(T0 + IDLE + 1);
      // Open: none left (1 and 3 were idle); done: 2; lapsed: 1 and 3.
      expect(await s.stats(T0)).toEqual({ liveShares: 2, storedBytes: 140, tickets: { open: 0, done: 1, lapsed: 2 } });
      // The unfinished share expires at T0 + 1000; its blob record stays until the sweep.
      expect(await s.stats(T0 + 1000)).toMatchObject({ liveShares: 1, storedBytes: 140 });
      await s.purgeDead(T0 + 1000, 7 * 24 * 3_600_000);
      expect(await s.stats(T0 + 1000)).toMatchObject({ liveShares: 1, storedBytes: 100 });
    });

    it('names the blobs no live share points at, and never reuses them', async () => {
      const s = await store();
      const first = await readyShare(s, 10, null);
      const blobId = `blob${serial}`;
      const second = newShare([{ reuseBlobId: blobId }], { expiresAt: T0 + 1000 });
      expect(await s.createShare(second)).toBe('created');
      const partial = newShare([{ size: 10 }], { expiresAt: T0 + 1000 });
      await s.createShare(partial);
      await s.claimSlot(partial.id, 0, 'partialblob', 10, T0);
      await s.revokeShare(first.id, T0);
      // Still live through the second share until it expires.
      expect(await s.deadBlobs(T0 + 500)).toEqual([]);
      expect((await s.deadBlobs(T0 + 1000)).sort()).toEqual([blobId, 'partialblob'].sort());
      const late = newShare([{ reuseBlobId: blobId }], { createdAt: T0 + 1000, expiresAt: T0 + 9000 });
      expect(await s.createShare(late)).toBe('blob-gone');
      expect(await s.getShare(late.id)).toBeUndefined();
    });

    it('accepts the readiness probe’s write', async () => {
      const s = await store();
      await expect(s.checkWritable()).resolves.toBeUndefined();
      await expect(s.checkWritable()).resolves.toBeUndefined();
    });
  });
}
