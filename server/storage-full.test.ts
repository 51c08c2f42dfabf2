/**
 * A full disk is an answer, never a wedge: a real server on a small tmpfs (mounted here, as
 * root), filled by uploads and by "another process" (a filler file). Every refusal is 507
 * STORAGE_FULL, never 500; the sweeper frees space; uploads work again without a restart.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShareOwnerView } from '../shared/api.ts';
import {
  type ApiAnswer,
  api,
  createTestShare,
  errorCode,
  fetchFile,
  fillDisk,
  mountTmpfs,
  patchInTwoParts,
  startTestServer,
  type TestServer,
  type TestShare,
  type Tmpfs,
  ticketFor,
  tmpfsUnavailable,
  tusHeaders,
  tusUpload,
  uploadAndComplete,
} from './test-support.ts';

const MiB = 1024 * 1024;
const HOUR = 3_600_000;
const unavailable = tmpfsUnavailable();
if (unavailable) console.warn(`storage-full.test.ts skipped: ${unavailable}`);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A test server whose data dir is a fresh tmpfs of `bytes`. */
async function serverOnTmpfs(bytes: number, minFreeBytes: number): Promise<{ ferry: TestServer; disk: Tmpfs }> {
  const disk = mountTmpfs(bytes);
  cleanups.push(() => disk.unmount());
  const ferry = await startTestServer({ minFreeBytes }, disk.dir);
  cleanups.push(() => ferry.stop());
  return { ferry, disk };
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
/** tus POST for file `index` without a body. */
async function createUpload(ferry: TestServer, share: TestShare, size: number, index = 0): Promise<ApiAnswer> {
  return api(ferry.url, 'POST', '/files/', {
    headers: {
      ...tusHeaders(share),
      'Upload-Length': String(size),
      'Upload-Metadata': `share ${b64(share.id)},index ${b64(String(index))}`,
    },
  });
}

const uploadIdOf = (answer: ApiAnswer) => answer.headers.get('location')!.split('/').pop()!;

async function ownerSlot(ferry: TestServer, share: TestShare) {
  const owner = await api(ferry.url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken });
  return (owner.json as ShareOwnerView).files[0]!;
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Never 500: either it worked (`ok`) or it says the storage is full. */
function expectOkOrFull(answer: ApiAnswer, ok: number): void {
  if (answer.status === ok) return;
  expect([answer.status, errorCode(answer)]).toEqual([507, 'STORAGE_FULL']);
}

describe.skipIf(unavailable)('a full disk', () => {
  it('refuses an upload that would eat into the reserve with 507, before a byte is stored', async () => {
    const { ferry } = await serverOnTmpfs(20 * MiB, 2 * MiB);
    const filesDir = path.join(ferry.dataDir, 'files');
    const huge = await createTestShare(ferry.url, [{ size: 50 * MiB }]);
    const refused = await createUpload(ferry, huge, 50 * MiB);
    expect([refused.status, errorCode(refused)]).toEqual([507, 'STORAGE_FULL']);
    expect(readdirSync(filesDir)).toEqual([]);
    expect((await ownerSlot(ferry, huge)).blobId).toBeNull();

    // 15 MiB fits (20 MiB less the databases, 2 MiB kept free); 4 MiB more then does not.
    const fits = randomBytes(15 * MiB);
    const share = await createTestShare(ferry.url, [{ size: fits.length }]);
    await uploadAndComplete(ferry.url, share, [fits]);
    const more = await createTestShare(ferry.url, [{ size: 4 * MiB }]);
    const over = await createUpload(ferry, more, 4 * MiB);
    expect([over.status, errorCode(over)]).toEqual([507, 'STORAGE_FULL']);
    const { ticket } = (await ticketFor(ferry.url, share, [0])).json as { ticket: string };
    expect((await fetchFile(ferry.url, share, 0, ticket)).bytes.equals(fits)).toBe(true);
  });

  it('counts what unfinished uploads still have to write against a new upload', async () => {
    const { ferry } = await serverOnTmpfs(20 * MiB, MiB);
    const first = await createTestShare(ferry.url, [{ size: 12 * MiB }]);
    const created = await createUpload(ferry, first, 12 * MiB);
    // 10 of its 12 MiB stored: 2 MiB still to come, about 9.7 MiB free.
    const stored = await patchInTwoParts(
      `${ferry.url}/files/${uploadIdOf(created)}`,
      first,
      0,
      randomBytes(10 * MiB),
      0,
      async () => {},
    );
    expect(stored.status).toBe(204);
    const tooBig = await createTestShare(ferry.url, [{ size: 7 * MiB }]);
    const refused = await createUpload(ferry, tooBig, 7 * MiB);
    expect([refused.status, errorCode(refused)]).toEqual([507, 'STORAGE_FULL']);
    const fits = await createTestShare(ferry.url, [{ size: 4 * MiB }]);
    expect((await createUpload(ferry, fits, 4 * MiB)).status).toBe(201);
  });

  it('refuses a PATCH that would cross the reserve, and takes it once space returns', async () => {
    const { ferry, disk } = await serverOnTmpfs(20 * MiB, MiB);
    const bytes = randomBytes(10 * MiB);
    const share = await createTestShare(ferry.url, [{ size: bytes.length }]);
    const created = await createUpload(ferry, share, bytes.length);
    expect(created.status).toBe(201);
    // Another process takes 12 MiB after the upload was admitted.
    const filler = path.join(disk.dir, 'other-process.log');
    appendFileSync(filler, Buffer.alloc(12 * MiB));
    const refused = await patchInTwoParts(
      `${ferry.url}/files/${uploadIdOf(created)}`,
      share,
      0,
      bytes,
      bytes.length,
      async () => {},
    );
    expect(refused).toEqual({ status: 507, code: 'STORAGE_FULL' });
    expect(statSync(path.join(ferry.dataDir, 'files', uploadIdOf(created))).size).toBe(0);
    unlinkSync(filler);
    const url = `${ferry.url}/files/${uploadIdOf(created)}`;
    await tusUpload(ferry.url, share, 0, bytes, { uploadUrl: url }).promise;
    await uploadAndComplete(ferry.url, share, []);
  });

  it('answers 507 when the disk fills mid-upload, frees space by the sweeper and recovers without a restart', async () => {
    const { ferry, disk } = await serverOnTmpfs(20 * MiB, MiB);
    const filesDir = path.join(ferry.dataDir, 'files');
    expect(await api(ferry.url, 'GET', '/ready')).toMatchObject({ status: 200, json: { ready: true } });
    const kept = randomBytes(10 * MiB);
    const expiring = await createTestShare(ferry.url, [{ size: kept.length }], { expiresInSeconds: 3600 });
    await uploadAndComplete(ferry.url, expiring, [kept]);
    const expiringBlob = (await ownerSlot(ferry, expiring)).blobId!;

    const partial = randomBytes(6 * MiB);
    const stuck = await createTestShare(ferry.url, [{ size: partial.length }], { expiresInSeconds: 4 * 3600 });
    const created = await createUpload(ferry, stuck, partial.length);
    expect(created.status).toBe(201);
    const stuckId = uploadIdOf(created);
    // Another process fills the disk while the upload runs.
    const filler = path.join(disk.dir, 'other-process.log');
    const answer = await patchInTwoParts(`${ferry.url}/files/${stuckId}`, stuck, 0, partial, MiB, async () => {
      await waitFor(() => statSync(path.join(filesDir, stuckId)).size >= MiB, 'the first MiB to be stored');
      fillDisk(filler);
    });
    expect(answer).toEqual({ status: 507, code: 'STORAGE_FULL' });

    // Whatever still works works; what cannot says so.
    const ready = await api(ferry.url, 'GET', '/ready');
    expect([ready.status, errorCode(ready)]).toEqual([503, 'STORAGE_FULL']);
    const failures = (ready.json as { failures: Array<{ check: string; code: string }> }).failures;
    expect(failures).toContainEqual(expect.objectContaining({ check: 'space', code: 'STORAGE_FULL' }));
    expect(failures).toContainEqual(expect.objectContaining({ check: 'storage', code: 'STORAGE_FULL' }));
    try {
      expect(await createTestShare(ferry.url, [{ size: 16 }])).toHaveProperty('id');
    } catch (error) {
      expect(String(error)).toMatch(/^Error: create share: 507 .*STORAGE_FULL/);
    }
    expectOkOrFull(await ticketFor(ferry.url, expiring, [0]), 201);
    const head = await fetch(`${ferry.url}/files/${stuckId}`, { method: 'HEAD', headers: tusHeaders(stuck) });
    expect(head.status).toBe(200);
    const more = await createTestShare(ferry.url, [{ size: MiB }]).catch(() => undefined);
    if (more) expectOkOrFull(await createUpload(ferry, more, MiB), 201);

    // The stuck upload is terminated on the full disk: its file first (which frees space),
    // then its slot.
    const deleted = await fetch(`${ferry.url}/files/${stuckId}`, { method: 'DELETE', headers: tusHeaders(stuck) });
    expect(deleted.status).toBe(204);
    expect(existsSync(path.join(filesDir, stuckId))).toBe(false);
    expect((await ownerSlot(ferry, stuck)).blobId).toBeNull();

    // Full again; the sweeper frees the expired share's ciphertext before writing its records.
    fillDisk(filler);
    ferry.clock.advance(1.5 * HOUR);
    expect(await ferry.sweeper.sweep()).toEqual([]);
    expect(existsSync(path.join(filesDir, expiringBlob))).toBe(false);
    const gone = await api(ferry.url, 'GET', `/api/shares/${expiring.id}`);
    expect([gone.status, errorCode(gone)]).toEqual([410, 'SHARE_EXPIRED']);
    expect((await api(ferry.url, 'GET', '/ready')).status).toBe(200);

    // Everything works again, without a restart.
    await uploadAndComplete(ferry.url, stuck, [partial]);
    const fresh = randomBytes(2 * MiB);
    const after = await createTestShare(ferry.url, [{ size: fresh.length }]);
    await uploadAndComplete(ferry.url, after, [fresh]);
    const { ticket } = (await ticketFor(ferry.url, after, [0])).json as { ticket: string };
    expect((await fetchFile(ferry.url, after, 0, ticket)).bytes.equals(fresh)).toBe(true);
  });
});

describe.skipIf(unavailable)('uploads that fail on storage', () => {
  it('frees the slot of a creation the storage refused, so the retry proceeds', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-rofs-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const files = mountTmpfs(20 * MiB, path.join(dataDir, 'files'));
    cleanups.push(() => files.unmount());
    const ferry = await startTestServer({}, dataDir);
    cleanups.push(() => ferry.stop());
    const bytes = randomBytes(64 * 1024);
    const share = await createTestShare(ferry.url, [{ size: bytes.length }]);

    files.setReadOnly(true);
    const refused = await createUpload(ferry, share, bytes.length);
    files.setReadOnly(false);
    expect([refused.status, errorCode(refused)]).toEqual([507, 'STORAGE_FULL']);
    expect((await ownerSlot(ferry, share)).blobId).toBeNull();
    const again = await createUpload(ferry, share, bytes.length);
    expect(again.status).toBe(201);
    await tusUpload(ferry.url, share, 0, bytes, { uploadUrl: `${ferry.url}/files/${uploadIdOf(again)}` }).promise;
    await uploadAndComplete(ferry.url, share, []);
  });
});

describe('tus termination says what happened', () => {
  it('answers 409 for an upload whose bytes are all stored, and keeps its slot', async () => {
    const ferry = await startTestServer();
    cleanups.push(() => ferry.stop());
    const bytes = randomBytes(4096);
    const share = await createTestShare(ferry.url, [{ size: bytes.length }]);
    const created = await createUpload(ferry, share, bytes.length);
    const id = uploadIdOf(created);
    // The last PATCH wrote every byte but has not sealed yet (or the process died in between).
    appendFileSync(path.join(ferry.dataDir, 'files', id), bytes);
    const deleted = await api(ferry.url, 'DELETE', `/files/${id}`, { headers: tusHeaders(share) });
    expect([deleted.status, errorCode(deleted)]).toEqual([409, 'UPLOAD_SEALED']);
    expect(await ownerSlot(ferry, share)).toMatchObject({ blobId: id, sealed: true });
    await uploadAndComplete(ferry.url, share, []);
  });

  it('removes an unfinished upload, then frees its slot', async () => {
    const ferry = await startTestServer();
    cleanups.push(() => ferry.stop());
    const share = await createTestShare(ferry.url, [{ size: 4096 }]);
    const id = uploadIdOf(await createUpload(ferry, share, 4096));
    appendFileSync(path.join(ferry.dataDir, 'files', id), randomBytes(100));
    const deleted = await api(ferry.url, 'DELETE', `/files/${id}`, { headers: tusHeaders(share) });
    expect(deleted.status).toBe(204);
    expect(existsSync(path.join(ferry.dataDir, 'files', id))).toBe(false);
    expect((await ownerSlot(ferry, share)).blobId).toBeNull();
    const again = await api(ferry.url, 'DELETE', `/files/${id}`, { headers: tusHeaders(share) });
    expect([again.status, errorCode(again)]).toEqual([404, 'NOT_FOUND']);
    expect((await createUpload(ferry, share, 4096)).status).toBe(201);
  });
});
