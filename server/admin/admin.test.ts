/**
 * The admin API over real HTTP: the token (configured, or made at first start, printed once
 * and kept hashed), 401 without it, and every action: overview, revoke a share, close a
 * request link, create and revoke upload keys — each logged as one line.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminOverview, type CreatedKey, UPLOAD_KEY_HEADER } from '../../shared/access-api.ts';
import type { CreateShareResponse } from '../../shared/api.ts';
import { tokenHash } from '../../shared/keys.ts';
import type { CreateRequestResponse } from '../../shared/request-api.ts';
import { exportPublicKey, newRequesterKeys } from '../../shared/request-keys.ts';
import {
  api,
  capturedLogger,
  createTestShare,
  errorCode,
  FAKE_MANIFEST,
  startTestServer,
  type TestServer,
  ticketFor,
} from '../test-support.ts';

const ADMIN = 'a-long-admin-token-of-the-operators-choice';

describe('admin API', () => {
  let ferry: TestServer;
  const log = capturedLogger();
  beforeAll(async () => {
    ferry = await startTestServer({ adminToken: ADMIN, maxStorageBytes: 1_000_000, logger: log.logger });
  });
  afterAll(() => ferry.stop());
  const overview = async () => {
    const answer = await api(ferry.url, 'GET', '/api/admin/overview', { token: ADMIN });
    expect(answer.status).toBe(200);
    return answer.json as AdminOverview;
  };

  it('answers 401 without the token or with a wrong one, on every route', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/api/admin/overview'],
      ['POST', '/api/admin/keys'],
      ['DELETE', '/api/admin/keys/abc'],
      ['DELETE', '/api/admin/shares/AAAAAAAAAAAAAAAA'],
      ['DELETE', '/api/admin/requests/AAAAAAAAAAAAAAAA'],
    ];
    for (const [method, url] of routes) {
      for (const token of [undefined, 'wrong', `${ADMIN}x`, ADMIN.slice(1)]) {
        const answer = await api(ferry.url, method, url, { ...(token && { token }) });
        expect([answer.status, errorCode(answer)]).toEqual([401, 'UNAUTHORIZED']);
      }
    }
    expect(log.messages().filter((l) => l.startsWith('admin:'))).toEqual([]);
  });

  it('shows storage and live shares without names, and revokes one: 410 for its recipient, bytes freed', async () => {
    const share = await createTestShare(ferry.url, [{ size: 3000 }, { size: 17 }], { maxDownloads: 5 });
    const view = await overview();
    expect(view.storage).toMatchObject({ usedBytes: 3017, capBytes: 1_000_000 });
    expect(view.storage.diskFreeBytes).toBeGreaterThan(0);
    expect(view.shares).toContainEqual({
      id: share.id,
      kind: 'share',
      createdAt: ferry.clock.now,
      expiresAt: share.expiresAt,
      bytes: 3017,
      files: 2,
      downloads: 0,
      maxDownloads: 5,
      state: 'uploading',
      keyId: null,
    });
    const revoked = await api(ferry.url, 'DELETE', `/api/admin/shares/${share.id}`, { token: ADMIN });
    expect(revoked.status).toBe(204);
    expect(log.messages()).toContain(`admin: action=revoke-share target=${share.id}`);
    const ticket = await ticketFor(ferry.url, share, [0]);
    expect([ticket.status, errorCode(ticket)]).toEqual([410, 'SHARE_REVOKED']);
    const after = await overview();
    expect(after.storage.usedBytes).toBe(0);
    expect(after.shares.find((s) => s.id === share.id)).toBeUndefined();
    const missing = await api(ferry.url, 'DELETE', '/api/admin/shares/AAAAAAAAAAAAAAAA', { token: ADMIN });
    expect([missing.status, errorCode(missing)]).toEqual([404, 'SHARE_NOT_FOUND']);
  });

  it('creates an upload key shown once, lists its usage, and revokes it', async () => {
    const body = { label: 'Alice', maxStoredBytes: 50_000, maxDailyBytes: 80_000, expiresInSeconds: 86_400 };
    const bad = await api(ferry.url, 'POST', '/api/admin/keys', { token: ADMIN, body: { ...body, label: '' } });
    expect([bad.status, errorCode(bad)]).toEqual([400, 'INVALID_BODY']);
    const made = await api(ferry.url, 'POST', '/api/admin/keys', { token: ADMIN, body });
    expect(made.status).toBe(201);
    const { key, view } = made.json as CreatedKey;
    expect(key).toMatch(/^fk_[A-Za-z0-9_-]{43}$/);
    expect(log.messages()).toContain(`admin: action=create-key target=${view.id}`);
    const keyed = await api(ferry.url, 'POST', '/api/shares', {
      body: {
        readerHash: await tokenHash(randomBytes(32).toString('base64url')),
        expiresInSeconds: 3600,
        maxDownloads: null,
        password: null,
        manifest: FAKE_MANIFEST,
        files: [{ size: 1234 }],
      },
      headers: { [UPLOAD_KEY_HEADER]: key },
    });
    expect(keyed.status).toBe(201);
    const listed = (await overview()).keys.find((k) => k.id === view.id);
    expect(listed).toEqual({
      ...view,
      usage: { storedBytes: 1234, dailyBytes: 1234, liveShares: 1 },
    });
    // The key itself is never shown again, nor its hash.
    const text = (await api(ferry.url, 'GET', '/api/admin/overview', { token: ADMIN })).text;
    expect(text).not.toContain(key);
    expect(text).not.toContain(await tokenHash(key));
    expect((await overview()).shares.find((s) => s.id === (keyed.json as CreateShareResponse).id)?.keyId).toBe(view.id);

    expect((await api(ferry.url, 'DELETE', `/api/admin/keys/${view.id}`, { token: ADMIN })).status).toBe(204);
    expect(log.messages()).toContain(`admin: action=revoke-key target=${view.id}`);
    expect((await overview()).keys.find((k) => k.id === view.id)?.state).toBe('revoked');
    const unknown = await api(ferry.url, 'DELETE', '/api/admin/keys/nope', { token: ADMIN });
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'NOT_FOUND']);
  });

  it('lists request links and closes one, revoking what was sent into it', async () => {
    const made = await api(ferry.url, 'POST', '/api/requests', {
      body: { maxBytes: 10_000, maxFiles: 3, expiresInSeconds: 3600 },
    });
    const request = made.json as CreateRequestResponse;
    const upload = await api(ferry.url, 'POST', `/api/requests/${request.id}/uploads`, {
      body: {
        senderKey: await exportPublicKey((await newRequesterKeys()).publicKey),
        readerHash: await tokenHash(randomBytes(32).toString('base64url')),
        manifest: FAKE_MANIFEST,
        files: [{ size: 700 }],
      },
    });
    const uploaded = upload.json as CreateShareResponse;
    const view = await overview();
    expect(view.requests).toContainEqual({
      id: request.id,
      createdAt: ferry.clock.now,
      expiresAt: request.expiresAt,
      maxBytes: 10_000,
      usedBytes: 700,
      maxFiles: 3,
      uploads: 1,
      state: 'open',
      keyId: null,
    });
    expect(view.shares.find((s) => s.id === uploaded.id)).toMatchObject({ kind: 'request-upload', bytes: 700 });
    expect((await api(ferry.url, 'DELETE', `/api/admin/requests/${request.id}`, { token: ADMIN })).status).toBe(204);
    expect(log.messages()).toContain(`admin: action=close-request target=${request.id}`);
    const info = await api(ferry.url, 'GET', `/api/requests/${request.id}`);
    expect(errorCode(info)).toBe('REQUEST_CLOSED');
    const share = await api(ferry.url, 'GET', `/api/shares/${uploaded.id}`);
    expect(errorCode(share)).toBe('SHARE_REVOKED');
    expect((await overview()).requests.find((r) => r.id === request.id)?.state).toBe('closed');
  });
});

describe('admin token made at first start', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-admin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is printed once, kept only as a hash, and still works after a restart', async () => {
    const first = capturedLogger();
    let ferry = await startTestServer({ logger: first.logger }, dir);
    const printed = first.messages().filter((l) => l.includes('admin token'));
    expect(printed).toHaveLength(1);
    const token = /: (\S+)$/.exec(printed[0]!)![1]!;
    expect((await api(ferry.url, 'GET', '/api/admin/overview', { token })).status).toBe(200);
    await ferry.stop();
    const database = await readFile(path.join(dir, 'access.db'));
    expect(database.includes(Buffer.from(token))).toBe(false);

    const second = capturedLogger();
    ferry = await startTestServer({ logger: second.logger }, dir);
    try {
      expect(second.messages().filter((l) => l.includes('admin token'))).toEqual([]);
      expect((await api(ferry.url, 'GET', '/api/admin/overview', { token })).status).toBe(200);
      expect((await api(ferry.url, 'GET', '/api/admin/overview', { token: `${token}x` })).status).toBe(401);
    } finally {
      await ferry.stop();
    }
  });
});
