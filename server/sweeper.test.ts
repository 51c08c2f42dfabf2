/** Expiry, revocation and the sweeper, with a fake clock and a short tus expiry. */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShareOwnerView } from '../shared/api.ts';
import { createLogger } from './log.ts';
import type { ShareStore } from './shares/store.ts';
import { Sweeper } from './sweeper.ts';
import {
  api,
  createTestShare,
  errorCode,
  fetchFile,
  startTestServer,
  type TestServer,
  ticketFor,
  uploadAndComplete,
} from './test-support.ts';

const UPLOAD_EXPIRY_MS = 1500;
let ferry: TestServer;
const filesDir = () => path.join(ferry.dataDir, 'files');
const HOUR = 3_600_000;

beforeAll(async () => {
  ferry = await startTestServer({ uploadExpiryMs: UPLOAD_EXPIRY_MS });
});
afterAll(async () => {
  await ferry.stop();
});

async function blobIdOf(share: { id: string; ownerToken: string }): Promise<string> {
  const owner = await api(ferry.url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken });
  return (owner.json as ShareOwnerView).files[0]!.blobId!;
}

/** Creates a tus upload for slot 0 without sending any bytes; returns its id. */
function createEmptyUpload(share: { id: string; uploadToken: string }, size: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const b64 = (t: string) => Buffer.from(t).toString('base64');
    const req = http.request(
      `${ferry.url}/files/`,
      {
        method: 'POST',
        headers: {
          'Tus-Resumable': '1.0.0',
          Authorization: `Bearer ${share.uploadToken}`,
          'Upload-Length': String(size),
          'Upload-Metadata': `share ${b64(share.id)},index ${b64('0')}`,
        },
      },
      (res) => {
        res.resume();
        if (res.statusCode !== 201) reject(new Error(`POST ${res.statusCode}`));
        else resolve(res.headers.location!.split('/').pop()!);
      },
    );
    req.end();
  });
}

describe('a pass with a failing step', () => {
  it('runs every other step, logs the failure and names it', async () => {
    const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    // The real store, with two of its writes refused as on a full disk.
    const failing = new Proxy<ShareStore>(ferry.shares, {
      get(target, property) {
        if (property === 'lapseTickets' || property === 'purgeDead') return () => Promise.reject(full());
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const logged: Array<{ step: string; msg: string; err: { message: string } }> = [];
    const sweeper = new Sweeper({
      shares: failing,
      blobs: ferry.blobs,
      requests: ferry.requests,
      now: () => ferry.clock.now,
      ticketIdleMs: 60_000,
      logger: createLogger({ level: 'info', destination: { write: (line) => logged.push(JSON.parse(line)) } }),
    });
    const share = await createTestShare(ferry.url, [{ size: 4096 }]);
    const uploadId = await createEmptyUpload(share, 4096);
    await new Promise((r) => setTimeout(r, UPLOAD_EXPIRY_MS + 100));

    expect(await sweeper.sweep()).toEqual(['lapse idle tickets', 'collect dead shares']);
    expect(logged.map((line) => [line.msg, line.step, line.err.message])).toEqual([
      ['sweeper step failed', 'lapse idle tickets', 'database or disk is full'],
      ['sweeper step failed', 'collect dead shares', 'database or disk is full'],
    ]);
    // The steps after the failures ran: the abandoned upload is gone.
    expect(readdirSync(filesDir())).not.toContain(uploadId);
  });
});

describe('expiry and revocation', () => {
  it('answers 410 SHARE_EXPIRED after expiry, and an extension keeps a share alive', async () => {
    const kept = await createTestShare(ferry.url, [{ size: 16 }], { expiresInSeconds: 3600 });
    const lapsing = await createTestShare(ferry.url, [{ size: 16 }], { expiresInSeconds: 3600 });
    const extended = await api(ferry.url, 'PATCH', `/api/shares/${kept.id}`, {
      token: kept.ownerToken,
      body: { expiresInSeconds: 7 * 24 * 3600 },
    });
    expect(extended.status).toBe(200);
    ferry.clock.advance(2 * HOUR);
    const gone = await api(ferry.url, 'GET', `/api/shares/${lapsing.id}`);
    expect([gone.status, errorCode(gone)]).toEqual([410, 'SHARE_EXPIRED']);
    await ferry.sweeper.sweep();
    expect(errorCode(await api(ferry.url, 'GET', `/api/shares/${lapsing.id}`))).toBe('SHARE_EXPIRED');
    expect((await api(ferry.url, 'GET', `/api/shares/${kept.id}`)).status).toBe(200);
  });

  it('revokes: 410 SHARE_REVOKED for everyone and the ciphertext leaves the disk', async () => {
    const bytes = randomBytes(2048);
    const share = await createTestShare(ferry.url, [{ size: bytes.length }]);
    await uploadAndComplete(ferry.url, share, [bytes]);
    const blobId = await blobIdOf(share);
    expect(existsSync(path.join(filesDir(), blobId))).toBe(true);
    const { ticket } = (await ticketFor(ferry.url, share, [0])).json as { ticket: string };

    expect((await api(ferry.url, 'DELETE', `/api/shares/${share.id}`, { token: share.ownerToken })).status).toBe(204);
    await ferry.sweeper.sweep();
    expect(existsSync(path.join(filesDir(), blobId))).toBe(false);
    expect(existsSync(path.join(filesDir(), `${blobId}.json`))).toBe(false);
    for (const [url, token] of [
      [`/api/shares/${share.id}`, undefined],
      [`/api/shares/${share.id}/manifest`, share.readerToken],
      [`/api/shares/${share.id}/owner`, share.ownerToken],
    ] as const) {
      const answer = await api(ferry.url, 'GET', url, token ? { token } : {});
      expect([answer.status, errorCode(answer)]).toEqual([410, 'SHARE_REVOKED']);
    }
    const file = await fetchFile(ferry.url, share, 0, ticket);
    expect(file.status).toBe(410);
  });

  it('keeps a reused blob while any share points at it and removes it after the last', async () => {
    const bytes = randomBytes(1024);
    const first = await createTestShare(ferry.url, [{ size: bytes.length }], { expiresInSeconds: 600 });
    await uploadAndComplete(ferry.url, first, [bytes]);
    const owner = await api(ferry.url, 'GET', `/api/shares/${first.id}/owner`, { token: first.ownerToken });
    const slot = (owner.json as ShareOwnerView).files[0]!;
    const second = await createTestShare(ferry.url, [{ reuse: { blobId: slot.blobId!, blobToken: slot.blobToken! } }], {
      expiresInSeconds: 3600,
    });
    // Past the tus expiry too: a sealed upload must not be taken for an abandoned one.
    await new Promise((r) => setTimeout(r, UPLOAD_EXPIRY_MS + 100));
    ferry.clock.advance(20 * 60 * 1000);
    await ferry.sweeper.sweep();
    expect(existsSync(path.join(filesDir(), slot.blobId!))).toBe(true);
    ferry.clock.advance(2 * HOUR);
    await ferry.sweeper.sweep();
    expect(existsSync(path.join(filesDir(), slot.blobId!))).toBe(false);
    expect(errorCode(await api(ferry.url, 'GET', `/api/shares/${second.id}`))).toBe('SHARE_EXPIRED');
  });

  it('removes abandoned uploads (freeing their slot) and files no record knows', async () => {
    const share = await createTestShare(ferry.url, [{ size: 4096 }]);
    const uploadId = await createEmptyUpload(share, 4096);
    writeFileSync(path.join(filesDir(), 'strayUpload'), 'x');
    writeFileSync(path.join(filesDir(), 'strayUpload.json'), JSON.stringify({ id: 'strayUpload', offset: 0 }));
    expect(readdirSync(filesDir())).toContain(uploadId);

    await new Promise((r) => setTimeout(r, UPLOAD_EXPIRY_MS + 100));
    ferry.clock.advance(2 * 60 * 1000);
    await ferry.sweeper.sweep();
    const left = readdirSync(filesDir());
    expect(left).not.toContain(uploadId);
    expect(left).not.toContain('strayUpload');
    expect(left).not.toContain('strayUpload.json');
    // The slot is free again: a fresh upload of file 0 is accepted.
    await expect(createEmptyUpload(share, 4096)).resolves.toMatch(/^[A-Za-z0-9_-]{24}$/);
  });
});
