/**
 * Upload access and quotas over real HTTP: a key-only server refuses creations without a
 * valid key and takes uploads into request links without one; every quota refuses at the
 * exact byte and frees bytes when a share dies.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreatedKey, UPLOAD_KEY_HEADER } from '../../shared/access-api.ts';
import type { CreateShareRequest, CreateShareResponse } from '../../shared/api.ts';
import { tokenHash } from '../../shared/keys.ts';
import type { CreateRequestResponse, CreateUploadBody } from '../../shared/request-api.ts';
import { exportPublicKey, newRequesterKeys } from '../../shared/request-keys.ts';
import { api, errorCode, FAKE_MANIFEST, startTestServer, type TestServer, uploadAndComplete } from '../test-support.ts';

const ADMIN = 'admin-token-for-tests';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function shareBody(sizes: number[], extra: Partial<CreateShareRequest> = {}): Promise<CreateShareRequest> {
  return {
    readerHash: await tokenHash(randomBytes(32).toString('base64url')),
    expiresInSeconds: 3600,
    maxDownloads: null,
    password: null,
    manifest: FAKE_MANIFEST,
    files: sizes.map((size) => ({ size })),
    ...extra,
  };
}

const postShare = async (ferry: TestServer, sizes: number[], headers: Record<string, string> = {}) =>
  api(ferry.url, 'POST', '/api/shares', { body: await shareBody(sizes), headers });

async function newKey(ferry: TestServer, extra: Record<string, unknown> = {}): Promise<CreatedKey> {
  const body = { label: 'test', maxStoredBytes: null, maxDailyBytes: null, expiresInSeconds: null, ...extra };
  const answer = await api(ferry.url, 'POST', '/api/admin/keys', { token: ADMIN, body });
  expect(answer.status).toBe(201);
  return answer.json as CreatedKey;
}

const withKey = (key: string) => ({ [UPLOAD_KEY_HEADER]: key });

async function uploadBody(sizes: number[]): Promise<CreateUploadBody> {
  return {
    senderKey: await exportPublicKey((await newRequesterKeys()).publicKey),
    readerHash: await tokenHash(randomBytes(32).toString('base64url')),
    manifest: FAKE_MANIFEST,
    files: sizes.map((size) => ({ size })),
  };
}

describe('a key-only server (FERRY_UPLOAD_ACCESS=key)', () => {
  let ferry: TestServer;
  beforeAll(async () => {
    ferry = await startTestServer({ uploadAccess: 'key', adminToken: ADMIN });
  });
  afterAll(() => ferry.stop());

  it('says so at GET /api/config', async () => {
    const answer = await api(ferry.url, 'GET', '/api/config');
    expect(answer).toMatchObject({ status: 200, json: { uploadAccess: 'key' } });
  });

  it('refuses a share or a request link without a key (401) or with a bad one (403)', async () => {
    const none = await postShare(ferry, [100]);
    expect([none.status, errorCode(none)]).toEqual([401, 'UPLOAD_KEY_REQUIRED']);
    const request = await api(ferry.url, 'POST', '/api/requests', {
      body: { maxBytes: 10_000, maxFiles: 2, expiresInSeconds: 3600 },
    });
    expect([request.status, errorCode(request)]).toEqual([401, 'UPLOAD_KEY_REQUIRED']);
    for (const bad of ['nonsense', `fk_${randomBytes(32).toString('base64url')}`]) {
      const answer = await postShare(ferry, [100], withKey(bad));
      expect([answer.status, errorCode(answer)]).toEqual([403, 'UPLOAD_KEY_INVALID']);
    }
  });

  it('takes a share with a key; tus uploads into it use the share token, not the key', async () => {
    const { key } = await newKey(ferry);
    const answer = await postShare(ferry, [1000], withKey(key));
    expect(answer.status).toBe(201);
    const share = answer.json as CreateShareResponse;
    // Throws unless every tus request and the owner's completion are accepted.
    await uploadAndComplete(ferry.url, { ...share, readerToken: '' }, [randomBytes(1000)]);
  });

  it('refuses a revoked key and an expired one', async () => {
    const revoked = await newKey(ferry);
    expect((await api(ferry.url, 'DELETE', `/api/admin/keys/${revoked.view.id}`, { token: ADMIN })).status).toBe(204);
    const a = await postShare(ferry, [100], withKey(revoked.key));
    expect([a.status, errorCode(a)]).toEqual([403, 'UPLOAD_KEY_INVALID']);
    const expiring = await newKey(ferry, { expiresInSeconds: 60 });
    expect((await postShare(ferry, [100], withKey(expiring.key))).status).toBe(201);
    ferry.clock.advance(60_000);
    const b = await postShare(ferry, [100], withKey(expiring.key));
    expect([b.status, errorCode(b)]).toEqual([403, 'UPLOAD_KEY_INVALID']);
  });

  it("takes uploads into a key holder's request link from a sender without a key", async () => {
    const { key } = await newKey(ferry);
    const made = await api(ferry.url, 'POST', '/api/requests', {
      body: { maxBytes: 10_000, maxFiles: 2, expiresInSeconds: 3600 },
      headers: withKey(key),
    });
    expect(made.status).toBe(201);
    const request = made.json as CreateRequestResponse;
    const answer = await api(ferry.url, 'POST', `/api/requests/${request.id}/uploads`, {
      body: await uploadBody([500]),
    });
    expect(answer.status).toBe(201);
    const share = answer.json as CreateShareResponse;
    // Throws unless every tus request and the owner's completion are accepted.
    await uploadAndComplete(ferry.url, { ...share, readerToken: '' }, [randomBytes(500)]);
  });
});

describe('quotas', () => {
  let ferry: TestServer;
  beforeAll(async () => {
    ferry = await startTestServer({
      adminToken: ADMIN,
      maxStorageBytes: 100_000,
      openDailyBytes: 20_000,
      trustedProxies: ['127.0.0.1'],
    });
  });
  afterAll(() => ferry.stop());
  const from = (address: string) => ({ 'X-Forwarded-For': address });
  const used = async () => ferry.access.storedBytes();

  it('refuses past a network’s bytes per day at the exact byte, with Retry-After; an IPv6 /64 is one network', async () => {
    const first = await postShare(ferry, [12_000], from('203.0.113.7'));
    expect(first.status).toBe(201);
    ferry.clock.advance(HOUR);
    const over = await postShare(ferry, [8_001], from('203.0.113.7'));
    expect([over.status, errorCode(over)]).toEqual([429, 'QUOTA_EXCEEDED']);
    // The first 12,000 bytes leave the window 23 hours from now.
    expect(Number(over.headers.get('retry-after'))).toBe(23 * 3600);
    // The app shows this sentence as it is.
    expect((over.json as { error: { message: string } }).error.message).toBe(
      'Your network may send 20.0 KB a day and 12.0 KB were sent in the last 24 hours, so these 8.0 KB do not fit. Try again in 23 hours.',
    );
    expect((await postShare(ferry, [8_000], from('203.0.113.7'))).status).toBe(201);
    // Revoking does not give back bytes sent today.
    const share = first.json as CreateShareResponse;
    await api(ferry.url, 'DELETE', `/api/shares/${share.id}`, { token: share.ownerToken });
    expect((await postShare(ferry, [16], from('203.0.113.7'))).status).toBe(429);
    // Another IPv4 address is another network; two addresses of one IPv6 /64 are one.
    expect((await postShare(ferry, [20_000], from('203.0.113.8'))).status).toBe(201);
    expect((await postShare(ferry, [15_000], from('2001:db8:5:6::1'))).status).toBe(201);
    const v6 = await postShare(ferry, [5_001], from('2001:db8:5:6:a:b:c:d'));
    expect([v6.status, errorCode(v6)]).toEqual([429, 'QUOTA_EXCEEDED']);
    expect((await postShare(ferry, [5_000], from('2001:db8:5:7::1'))).status).toBe(201);
    ferry.clock.advance(23 * HOUR);
    expect((await postShare(ferry, [12_000], from('203.0.113.7'))).status).toBe(201);
  });

  it('caps the server’s storage at the exact byte (507), and a revoke or the expiry sweep frees it', async () => {
    ferry.clock.advance(2 * DAY);
    await ferry.sweeper.sweep();
    const key = await newKey(ferry);
    const headers = withKey(key.key);
    const left = 100_000 - (await used());
    const big = await postShare(ferry, [left - 20_000, 20_000], headers);
    expect(big.status).toBe(201);
    const full = await postShare(ferry, [1], headers);
    expect(full.status).toBe(400); // smaller than a record's tag: the body is checked first
    const over = await postShare(ferry, [16], headers);
    expect([over.status, errorCode(over)]).toEqual([507, 'STORAGE_FULL']);
    const share = big.json as CreateShareResponse;
    expect((await api(ferry.url, 'DELETE', `/api/shares/${share.id}`, { token: share.ownerToken })).status).toBe(204);
    expect(await used()).toBe(100_000 - left);
    const exact = await postShare(ferry, [left], headers);
    expect(exact.status).toBe(201);
    expect((await postShare(ferry, [16], headers)).status).toBe(507);
    // The share expires after an hour; the sweep after that frees its bytes.
    ferry.clock.advance(HOUR);
    await ferry.sweeper.sweep();
    expect(await used()).toBe(0);
  });

  it("refuses past a key's bytes stored and bytes per day at the exact byte", async () => {
    const { key } = await newKey(ferry, { maxStoredBytes: 10_000, maxDailyBytes: 15_000 });
    const headers = withKey(key);
    const a = await postShare(ferry, [6_000], headers);
    expect(a.status).toBe(201);
    const stored = await postShare(ferry, [4_001], headers);
    expect([stored.status, errorCode(stored)]).toEqual([429, 'QUOTA_EXCEEDED']);
    expect(stored.headers.get('retry-after')).toBeNull();
    expect((await postShare(ferry, [4_000], headers)).status).toBe(201);
    const share = a.json as CreateShareResponse;
    await api(ferry.url, 'DELETE', `/api/shares/${share.id}`, { token: share.ownerToken });
    // 4,000 stored, 10,000 sent today: the day's 5,000 left is what fits now.
    const daily = await postShare(ferry, [5_001], headers);
    expect([daily.status, errorCode(daily)]).toEqual([429, 'QUOTA_EXCEEDED']);
    expect(Number(daily.headers.get('retry-after'))).toBe(24 * 3600);
    expect((await postShare(ferry, [5_000], headers)).status).toBe(201);
  });

  it('counts uploads into a request link against the key that made it', async () => {
    const { key } = await newKey(ferry, { maxDailyBytes: 3_000 });
    const made = await api(ferry.url, 'POST', '/api/requests', {
      body: { maxBytes: 100_000, maxFiles: 10, expiresInSeconds: 3600 },
      headers: withKey(key),
    });
    const request = made.json as CreateRequestResponse;
    const post = async (size: number) =>
      api(ferry.url, 'POST', `/api/requests/${request.id}/uploads`, { body: await uploadBody([size]) });
    expect((await post(2_000)).status).toBe(201);
    const over = await post(1_001);
    expect([over.status, errorCode(over)]).toEqual([429, 'QUOTA_EXCEEDED']);
    // Refused uploads take no room in the request either.
    const info = await api(ferry.url, 'GET', `/api/requests/${request.id}`);
    expect(info.json).toMatchObject({ usedBytes: 2_000, usedFiles: 1 });
    expect((await post(1_000)).status).toBe(201);
  });

  it('reserves a repeated relay-share create once', async () => {
    const before = await used();
    const body = await shareBody([1_000], {
      id: randomBytes(12).toString('base64url'),
      ownerHash: await tokenHash(randomBytes(32).toString('base64url')),
      uploadHash: await tokenHash(randomBytes(32).toString('base64url')),
    });
    const headers = from('198.51.100.1');
    expect((await api(ferry.url, 'POST', '/api/shares', { body, headers })).status).toBe(201);
    expect((await api(ferry.url, 'POST', '/api/shares', { body, headers })).status).toBe(200);
    expect(await used()).toBe(before + 1_000);
  });
});
