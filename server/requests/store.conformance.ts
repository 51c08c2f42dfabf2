/**
 * What every RequestStore must do, as a suite any implementation runs:
 * `requestStoreConformance('sqlite', () => openSqliteRequestStore(file))`.
 */
import { describe, expect, it } from 'vitest';
import { closedAfterEach } from '../store-harness.ts';
import type { NewRequest, RequestStore, UploadRecord } from './store.ts';

const T0 = 1_800_000_000_000;
const HOUR = 3_600_000;
let serial = 0;

function newRequest(extra: Partial<NewRequest> = {}): NewRequest {
  serial++;
  return {
    id: `request${String(serial).padStart(9, '0')}`,
    ownerHash: 'a'.repeat(64),
    createdAt: T0,
    expiresAt: T0 + HOUR,
    maxBytes: 1000,
    maxFiles: 3,
    ...extra,
  };
}

function upload(shareId: string, bytes: number, files = 1): UploadRecord {
  return { shareId, senderKey: `B${'A'.repeat(86)}`, bytes, files, createdAt: T0 + 1 };
}

export function requestStoreConformance(name: string, makeStore: () => RequestStore | Promise<RequestStore>): void {
  describe(`RequestStore conformance: ${name}`, () => {
    const store = closedAfterEach(makeStore);

    it('creates a request and reads it back with nothing used', async () => {
      const s = await store();
      const request = newRequest();
      await s.createRequest(request);
      expect(await s.getRequest(request.id)).toEqual({ ...request, closedAt: null, usedBytes: 0, usedFiles: 0 });
      expect(await s.getRequest('unknown00000000a')).toBeUndefined();
      expect(await s.listUploads(request.id)).toEqual([]);
    });

    it('adds uploads within the limits and refuses those past them', async () => {
      const s = await store();
      const request = newRequest();
      await s.createRequest(request);
      expect(await s.addUpload(request.id, upload('shareAAAAAAAAAAA', 600, 2), T0)).toBe('added');
      expect(await s.addUpload(request.id, upload('shareBBBBBBBBBBB', 401), T0)).toBe('too-many-bytes');
      expect(await s.addUpload(request.id, upload('shareBBBBBBBBBBB', 100, 2), T0)).toBe('too-many-files');
      expect(await s.addUpload(request.id, upload('shareBBBBBBBBBBB', 400), T0)).toBe('added');
      expect(await s.getRequest(request.id)).toMatchObject({ usedBytes: 1000, usedFiles: 3 });
      expect((await s.listUploads(request.id)).map((u) => u.shareId)).toEqual(['shareAAAAAAAAAAA', 'shareBBBBBBBBBBB']);

      await s.removeUpload(request.id, 'shareBBBBBBBBBBB');
      expect(await s.getRequest(request.id)).toMatchObject({ usedBytes: 600, usedFiles: 2 });
      expect(await s.listUploads(request.id)).toEqual([upload('shareAAAAAAAAAAA', 600, 2)]);
    });

    it('refuses uploads into unknown, expired and closed requests', async () => {
      const s = await store();
      const request = newRequest();
      await s.createRequest(request);
      expect(await s.addUpload('unknown00000000a', upload('shareCCCCCCCCCCC', 1), T0)).toBe('missing');
      expect(await s.addUpload(request.id, upload('shareCCCCCCCCCCC', 1), request.expiresAt)).toBe('expired');
      await s.closeRequest(request.id, T0 + 5);
      await s.closeRequest(request.id, T0 + 9);
      expect(await s.getRequest(request.id)).toMatchObject({ closedAt: T0 + 5 });
      expect(await s.addUpload(request.id, upload('shareCCCCCCCCCCC', 1), T0)).toBe('closed');
    });

    it('never lets racing uploads pass the limits together', async () => {
      const s = await store();
      const request = newRequest({ maxFiles: 1000 });
      await s.createRequest(request);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          s.addUpload(request.id, upload(`share${String(i).padStart(11, '0')}`, 100), T0),
        ),
      );
      expect(results.filter((r) => r === 'added')).toHaveLength(10);
      expect(await s.getRequest(request.id)).toMatchObject({ usedBytes: 1000, usedFiles: 10 });
    });

    it('purges requests that expired or were closed before a time, with their uploads', async () => {
      const s = await store();
      const expired = newRequest();
      const closed = newRequest({ expiresAt: T0 + 10 * HOUR });
      const live = newRequest({ expiresAt: T0 + 10 * HOUR });
      for (const r of [expired, closed, live]) await s.createRequest(r);
      await s.addUpload(expired.id, upload('shareDDDDDDDDDDD', 1), T0);
      await s.closeRequest(closed.id, T0 + 2 * HOUR);
      expect(await s.purgeBefore(T0 + HOUR)).toBe(0);
      expect(await s.purgeBefore(T0 + 3 * HOUR)).toBe(2);
      expect(await s.getRequest(expired.id)).toBeUndefined();
      expect(await s.listUploads(expired.id)).toEqual([]);
      expect(await s.getRequest(closed.id)).toBeUndefined();
      expect(await s.getRequest(live.id)).toBeDefined();
    });
  });
}
