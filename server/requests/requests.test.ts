/** Request links over real HTTP: creation, uploads into them with tus, the owner's view, and every refusal. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateShareResponse } from '../../shared/api.ts';
import { tokenHash } from '../../shared/keys.ts';
import type {
  CreateRequestBody,
  CreateRequestResponse,
  CreateUploadBody,
  RequestInfo,
  RequestOwnerView,
} from '../../shared/request-api.ts';
import { exportPublicKey, newRequesterKeys } from '../../shared/request-keys.ts';
import { TOMBSTONE_MS } from '../sweeper.ts';
import { api, errorCode, FAKE_MANIFEST, startTestServer, type TestServer, tusUpload } from '../test-support.ts';

let ferry: TestServer;
let senderKey: string;
beforeAll(async () => {
  ferry = await startTestServer();
  senderKey = await exportPublicKey((await newRequesterKeys()).publicKey);
});
afterAll(async () => {
  await ferry.stop();
});

async function createRequest(extra: Partial<CreateRequestBody> = {}): Promise<CreateRequestResponse> {
  const body: CreateRequestBody = { maxBytes: 10_000, maxFiles: 3, expiresInSeconds: 3600, ...extra };
  const answer = await api(ferry.url, 'POST', '/api/requests', { body });
  if (answer.status !== 201) throw new Error(`create request: ${answer.status} ${answer.text}`);
  return answer.json as CreateRequestResponse;
}

async function uploadBody(sizes: number[], extra: Partial<CreateUploadBody> = {}): Promise<CreateUploadBody> {
  return {
    senderKey,
    readerHash: await tokenHash(randomBytes(32).toString('base64url')),
    manifest: FAKE_MANIFEST,
    files: sizes.map((size) => ({ size })),
    ...extra,
  };
}

const postUpload = async (id: string, body: unknown) => api(ferry.url, 'POST', `/api/requests/${id}/uploads`, { body });

describe('request links', () => {
  it('takes uploads within its limits and lists them for the requester only', async () => {
    const request = await createRequest();
    expect(request).toMatchObject({ maxBytes: 10_000, maxFiles: 3, usedBytes: 0, usedFiles: 0 });
    expect(request.id).toMatch(/^[A-Za-z0-9_-]{16}$/);

    const answer = await postUpload(request.id, await uploadBody([3000, 17]));
    expect(answer.status).toBe(201);
    const share = answer.json as CreateShareResponse;
    // An ordinary share: tus takes its files with its upload token, its owner completes it.
    const bytes = [randomBytes(3000), randomBytes(17)];
    for (const [i, b] of bytes.entries()) await tusUpload(ferry.url, share, i, b).promise;
    const done = await api(ferry.url, 'PATCH', `/api/shares/${share.id}`, {
      token: share.ownerToken,
      body: { complete: true },
    });
    expect(done.status).toBe(200);
    const shareInfo = await api(ferry.url, 'GET', `/api/shares/${share.id}`);
    expect(shareInfo.json).toMatchObject({ maxDownloads: null, password: null, fileCount: 2, state: 'ready' });

    const info = await api(ferry.url, 'GET', `/api/requests/${request.id}`);
    expect(info.status).toBe(200);
    expect(info.json as RequestInfo).toMatchObject({ usedBytes: 3017, usedFiles: 2 });

    const anonymous = await api(ferry.url, 'GET', `/api/requests/${request.id}/owner`);
    expect([anonymous.status, errorCode(anonymous)]).toEqual([401, 'UNAUTHORIZED']);
    const wrong = await api(ferry.url, 'GET', `/api/requests/${request.id}/owner`, {
      token: randomBytes(32).toString('base64url'),
    });
    expect([wrong.status, errorCode(wrong)]).toEqual([401, 'UNAUTHORIZED']);
    const owner = await api(ferry.url, 'GET', `/api/requests/${request.id}/owner`, { token: request.ownerToken });
    expect(owner.status).toBe(200);
    expect(owner.json as RequestOwnerView).toMatchObject({
      state: 'open',
      uploads: [{ shareId: share.id, senderKey, bytes: 3017, files: 2, state: 'ready' }],
    });
  });

  it('lets the requester delete an upload: its share is revoked and its room freed', async () => {
    const request = await createRequest({ maxFiles: 1 });
    const share = (await postUpload(request.id, await uploadBody([500]))).json as CreateShareResponse;
    const blobId = (await tusUpload(ferry.url, share, 0, randomBytes(500)).promise).split('/').pop();
    expect(await ferry.blobs.list()).toContain(blobId);
    const path = `/api/requests/${request.id}/uploads/${share.id}`;

    const anonymous = await api(ferry.url, 'DELETE', path);
    expect([anonymous.status, errorCode(anonymous)]).toEqual([401, 'UNAUTHORIZED']);
    const unknown = await api(ferry.url, 'DELETE', `/api/requests/${request.id}/uploads/AAAAAAAAAAAAAAAA`, {
      token: request.ownerToken,
    });
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'SHARE_NOT_FOUND']);
    // Another request's owner cannot delete it through its own request.
    const other = await createRequest();
    const foreign = await api(ferry.url, 'DELETE', `/api/requests/${other.id}/uploads/${share.id}`, {
      token: other.ownerToken,
    });
    expect([foreign.status, errorCode(foreign)]).toEqual([404, 'SHARE_NOT_FOUND']);

    expect((await api(ferry.url, 'DELETE', path, { token: request.ownerToken })).status).toBe(204);
    const gone = await api(ferry.url, 'GET', `/api/shares/${share.id}`);
    expect([gone.status, errorCode(gone)]).toEqual([410, 'SHARE_REVOKED']);
    expect(await ferry.blobs.list()).not.toContain(blobId);
    const info = await api(ferry.url, 'GET', `/api/requests/${request.id}`);
    expect(info.json as RequestInfo).toMatchObject({ usedBytes: 0, usedFiles: 0 });
    expect((await postUpload(request.id, await uploadBody([500]))).status).toBe(201);
  });

  it('refuses uploads past the byte or file limit with 413, and counts nothing for them', async () => {
    const request = await createRequest({ maxBytes: 5000, maxFiles: 2 });
    const tooBig = await postUpload(request.id, await uploadBody([5001]));
    expect([tooBig.status, errorCode(tooBig)]).toEqual([413, 'REQUEST_LIMIT_REACHED']);
    const tooMany = await postUpload(request.id, await uploadBody([16, 16, 16]));
    expect([tooMany.status, errorCode(tooMany)]).toEqual([413, 'REQUEST_LIMIT_REACHED']);
    expect((await postUpload(request.id, await uploadBody([4000]))).status).toBe(201);
    const rest = await postUpload(request.id, await uploadBody([1001]));
    expect([rest.status, errorCode(rest)]).toEqual([413, 'REQUEST_LIMIT_REACHED']);
    const info = await api(ferry.url, 'GET', `/api/requests/${request.id}`);
    expect(info.json as RequestInfo).toMatchObject({ usedBytes: 4000, usedFiles: 1 });
  });

  it('takes an upload back when its share cannot be stored', async () => {
    const request = await createRequest();
    const original = ferry.shares.createShare;
    ferry.shares.createShare = async () => {
      throw new Error('disk full');
    };
    try {
      const answer = await postUpload(request.id, await uploadBody([100]));
      expect([answer.status, errorCode(answer)]).toEqual([500, 'INTERNAL']);
    } finally {
      ferry.shares.createShare = original;
    }
    const info = await api(ferry.url, 'GET', `/api/requests/${request.id}`);
    expect(info.json as RequestInfo).toMatchObject({ usedBytes: 0, usedFiles: 0 });
  });

  it('answers 404 for unknown and malformed ids', async () => {
    for (const id of ['AAAAAAAAAAAAAAAA', 'short', 'AAAAAAAAAAAAAAA%3D']) {
      const info = await api(ferry.url, 'GET', `/api/requests/${id}`);
      expect([info.status, errorCode(info)]).toEqual([404, 'REQUEST_NOT_FOUND']);
      const upload = await postUpload(id, await uploadBody([100]));
      expect([upload.status, errorCode(upload)]).toEqual([404, 'REQUEST_NOT_FOUND']);
    }
  });

  it('answers 410 once expired or closed; the requester still sees its uploads', async () => {
    const expiring = await createRequest({ expiresInSeconds: 300 });
    expect((await postUpload(expiring.id, await uploadBody([100]))).status).toBe(201);
    ferry.clock.advance(300_000);
    const info = await api(ferry.url, 'GET', `/api/requests/${expiring.id}`);
    expect([info.status, errorCode(info)]).toEqual([410, 'REQUEST_EXPIRED']);
    const late = await postUpload(expiring.id, await uploadBody([100]));
    expect([late.status, errorCode(late)]).toEqual([410, 'REQUEST_EXPIRED']);
    const owner = await api(ferry.url, 'GET', `/api/requests/${expiring.id}/owner`, { token: expiring.ownerToken });
    expect(owner.json as RequestOwnerView).toMatchObject({ state: 'expired', uploads: [{ bytes: 100 }] });

    const closing = await createRequest();
    const notOwner = await api(ferry.url, 'DELETE', `/api/requests/${closing.id}`);
    expect([notOwner.status, errorCode(notOwner)]).toEqual([401, 'UNAUTHORIZED']);
    const closed = await api(ferry.url, 'DELETE', `/api/requests/${closing.id}`, { token: closing.ownerToken });
    expect(closed.status).toBe(204);
    const after = await postUpload(closing.id, await uploadBody([100]));
    expect([after.status, errorCode(after)]).toEqual([410, 'REQUEST_CLOSED']);
    const closedInfo = await api(ferry.url, 'GET', `/api/requests/${closing.id}`);
    expect([closedInfo.status, errorCode(closedInfo)]).toEqual([410, 'REQUEST_CLOSED']);
  });

  it('refuses malformed bodies and public keys that are not P-256 points', async () => {
    const request = await createRequest();
    const offCurve = `${senderKey.slice(0, 60)}${senderKey[60] === 'A' ? 'B' : 'A'}${senderKey.slice(61)}`;
    const bodies: unknown[] = [
      await uploadBody([100], { senderKey: offCurve }),
      await uploadBody([100], { senderKey: senderKey.slice(0, 43) }),
      { ...(await uploadBody([100])), expiresInSeconds: 604800 },
      { ...(await uploadBody([100])), files: [{ reuse: { blobId: 'x', blobToken: 'a'.repeat(43) } }] },
      await uploadBody([]),
      await uploadBody([15]),
      'not json',
    ];
    for (const body of bodies) {
      const answer = await postUpload(request.id, body);
      expect([answer.status, errorCode(answer)], JSON.stringify(body).slice(0, 80)).toEqual([400, 'INVALID_BODY']);
    }
    for (const body of [
      { maxBytes: 10, maxFiles: 1, expiresInSeconds: 3600 },
      { maxBytes: 10_000, maxFiles: 0, expiresInSeconds: 3600 },
      { maxBytes: 10_000, maxFiles: 1, expiresInSeconds: 60 },
      { maxBytes: 10_000, maxFiles: 1, expiresInSeconds: 3600, label: 'x' },
    ]) {
      const answer = await api(ferry.url, 'POST', '/api/requests', { body });
      expect([answer.status, errorCode(answer)], JSON.stringify(body)).toEqual([400, 'INVALID_BODY']);
    }
    const info = await api(ferry.url, 'GET', `/api/requests/${request.id}`);
    expect(info.json as RequestInfo).toMatchObject({ usedBytes: 0, usedFiles: 0 });
  });

  it('does not take a later share at a freed upload id for the upload', async () => {
    // The sender holds its upload share's owner token: it may shorten the share's life, so
    // the share's tombstone can go while the request still lists the upload, and then
    // propose that id for a new share of its own, outside the request's limits.
    const request = await createRequest({ expiresInSeconds: 7 * 24 * 3600, maxBytes: 1024 });
    const share = (await postUpload(request.id, await uploadBody([500]))).json as CreateShareResponse;
    const shorten = await api(ferry.url, 'PATCH', `/api/shares/${share.id}`, {
      token: share.ownerToken,
      body: { expiresInSeconds: 300 },
    });
    expect(shorten.status).toBe(200);
    ferry.clock.advance(300_000 + TOMBSTONE_MS + 1000);
    await ferry.sweeper.sweep();
    const replacement = await api(ferry.url, 'POST', '/api/shares', {
      body: {
        id: share.id,
        readerHash: await tokenHash(randomBytes(32).toString('base64url')),
        expiresInSeconds: 3600,
        maxDownloads: null,
        password: null,
        manifest: FAKE_MANIFEST,
        files: [{ size: 100_000 }],
      },
    });
    expect(replacement.status).toBe(201);

    const owner = await api(ferry.url, 'GET', `/api/requests/${request.id}/owner`, { token: request.ownerToken });
    expect((owner.json as RequestOwnerView).uploads).toMatchObject([{ shareId: share.id, bytes: 500, state: 'gone' }]);
    // Removing the upload frees its room but leaves the share that is not the upload's alone.
    const removed = await api(ferry.url, 'DELETE', `/api/requests/${request.id}/uploads/${share.id}`, {
      token: request.ownerToken,
    });
    expect(removed.status).toBe(204);
    expect((await api(ferry.url, 'GET', `/api/shares/${share.id}`)).status).toBe(200);
  });

  it('is forgotten by the sweeper a week after it ended', async () => {
    const request = await createRequest({ expiresInSeconds: 300 });
    ferry.clock.advance(300_000 + 7 * 24 * 3_600_000 - 1000);
    await ferry.sweeper.sweep();
    expect((await api(ferry.url, 'GET', `/api/requests/${request.id}`)).status).toBe(410);
    ferry.clock.advance(2000);
    await ferry.sweeper.sweep();
    const gone = await api(ferry.url, 'GET', `/api/requests/${request.id}`);
    expect([gone.status, errorCode(gone)]).toEqual([404, 'REQUEST_NOT_FOUND']);
  });
});
