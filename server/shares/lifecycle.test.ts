/** A share from creation to download, over real HTTP with tus-js-client. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ShareInfo, ShareManifestResponse, ShareOwnerView } from '../../shared/api.ts';
import {
  api,
  createTestShare,
  errorCode,
  FAKE_MANIFEST,
  fetchFile,
  serverForFile,
  ticketFor,
  tusUpload,
  uploadAndComplete,
} from '../test-support.ts';

const ferry = serverForFile();

describe('share lifecycle', () => {
  it('uploads, completes, reads the manifest and downloads identical bytes', async () => {
    const files = [randomBytes(300_000), randomBytes(1000)];
    const share = await createTestShare(
      ferry().url,
      files.map((f) => ({ size: f.length })),
    );
    expect(share.id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(share.files).toEqual([
      { index: 0, size: 300_000, uploaded: 0, sealed: false },
      { index: 1, size: 1000, uploaded: 0, sealed: false },
    ]);

    const early = await api(ferry().url, 'PATCH', `/api/shares/${share.id}`, {
      token: share.ownerToken,
      body: { complete: true },
    });
    expect([early.status, errorCode(early)]).toEqual([409, 'CONFLICT']);

    await uploadAndComplete(ferry().url, share, files);

    const info = await api(ferry().url, 'GET', `/api/shares/${share.id}`);
    expect(info.status).toBe(200);
    expect(info.json as ShareInfo).toMatchObject({ id: share.id, state: 'ready', fileCount: 2, downloads: 0 });
    expect(info.headers.get('referrer-policy')).toBe('no-referrer');

    const manifest = await api(ferry().url, 'GET', `/api/shares/${share.id}/manifest`, { token: share.readerToken });
    expect(manifest.status).toBe(200);
    const body = manifest.json as ShareManifestResponse;
    expect(body.manifest).toBe(FAKE_MANIFEST);
    expect(body.files.every((f) => f.sealed && f.uploaded === f.size)).toBe(true);

    const ticket = await ticketFor(ferry().url, share, [0, 1]);
    expect(ticket.status).toBe(201);
    const { ticket: t } = ticket.json as { ticket: string };
    for (const [i, bytes] of files.entries()) {
      const got = await fetchFile(ferry().url, share, i, t);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe('application/octet-stream');
      expect(got.headers.get('accept-ranges')).toBe('bytes');
      expect(got.headers.get('content-length')).toBe(String(bytes.length));
      expect(got.bytes.equals(bytes)).toBe(true);
    }
    const after = await api(ferry().url, 'GET', `/api/shares/${share.id}`);
    expect((after.json as ShareInfo).downloads).toBe(1);
  });

  it('answers ranges with 206 and counts a resumed download exactly once', async () => {
    const bytes = randomBytes(100_000);
    const share = await createTestShare(ferry().url, [{ size: bytes.length }]);
    await uploadAndComplete(ferry().url, share, [bytes]);
    const { ticket } = (await ticketFor(ferry().url, share, [0])).json as { ticket: string };

    const first = await fetchFile(ferry().url, share, 0, ticket, 'bytes=0-39999');
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe('bytes 0-39999/100000');
    expect(first.bytes.equals(bytes.subarray(0, 40_000))).toBe(true);

    const suffix = await fetchFile(ferry().url, share, 0, ticket, 'bytes=-10');
    expect(suffix.headers.get('content-range')).toBe('bytes 99990-99999/100000');
    expect(suffix.bytes.equals(bytes.subarray(99_990))).toBe(true);
    expect(((await api(ferry().url, 'GET', `/api/shares/${share.id}`)).json as ShareInfo).downloads).toBe(0);

    const rest = await fetchFile(ferry().url, share, 0, ticket, 'bytes=40000-');
    expect(rest.status).toBe(206);
    expect(Buffer.concat([first.bytes, rest.bytes]).equals(bytes)).toBe(true);
    expect(((await api(ferry().url, 'GET', `/api/shares/${share.id}`)).json as ShareInfo).downloads).toBe(1);

    // The completed ticket may still re-read for a while, but never counts again.
    const again = await fetchFile(ferry().url, share, 0, ticket);
    expect(again.bytes.equals(bytes)).toBe(true);
    expect(((await api(ferry().url, 'GET', `/api/shares/${share.id}`)).json as ShareInfo).downloads).toBe(1);

    const beyond = await fetchFile(ferry().url, share, 0, ticket, 'bytes=100000-');
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */100000');
    expect(JSON.parse(beyond.bytes.toString()).error.code).toBe('INVALID_RANGE');

    const multi = await fetchFile(ferry().url, share, 0, ticket, 'bytes=0-1,5-6');
    expect(multi.status).toBe(200);
  });

  it('bounds how many separate pieces one ticket may fetch a file in', async () => {
    const bytes = randomBytes(1000);
    const share = await createTestShare(ferry().url, [{ size: bytes.length }]);
    await uploadAndComplete(ferry().url, share, [bytes]);
    const { ticket } = (await ticketFor(ferry().url, share, [0])).json as { ticket: string };
    for (let i = 0; i < 64; i++) {
      const piece = await fetchFile(ferry().url, share, 0, ticket, `bytes=${2 * i}-${2 * i}`);
      expect(piece.status).toBe(206);
    }
    await new Promise((r) => setTimeout(r, 50));
    const refused = await fetchFile(ferry().url, share, 0, ticket, 'bytes=500-500');
    expect(refused.status).toBe(416);
    expect(refused.headers.get('content-range')).toBe('bytes */1000');
    expect(JSON.parse(refused.bytes.toString()).error).toMatchObject({
      code: 'INVALID_RANGE',
      message: expect.stringMatching(/64 separate pieces/),
    });
    // Continuing where a piece ended is always allowed, and completes the download.
    const rest = await fetchFile(ferry().url, share, 0, ticket, 'bytes=127-');
    expect(rest.bytes.equals(bytes.subarray(127))).toBe(true);
    const gap = await fetchFile(ferry().url, share, 0, ticket, 'bytes=1-1');
    expect(gap.status).toBe(206);
    await new Promise((r) => setTimeout(r, 50));
    expect(((await api(ferry().url, 'GET', `/api/shares/${share.id}`)).json as ShareInfo).downloads).toBe(0);
    const whole = await fetchFile(ferry().url, share, 0, ticket, 'bytes=0-');
    expect(whole.status).toBe(206);
    await new Promise((r) => setTimeout(r, 50));
    expect(((await api(ferry().url, 'GET', `/api/shares/${share.id}`)).json as ShareInfo).downloads).toBe(1);
  });

  it('reuses a sealed blob with its token, refuses a wrong token, and keeps the blob while referenced', async () => {
    const bytes = randomBytes(5000);
    const first = await createTestShare(ferry().url, [{ size: bytes.length }]);
    await uploadAndComplete(ferry().url, first, [bytes]);
    const owner = await api(ferry().url, 'GET', `/api/shares/${first.id}/owner`, { token: first.ownerToken });
    expect(owner.status).toBe(200);
    const slot = (owner.json as ShareOwnerView).files[0]!;
    expect(slot.blobId).toBeTruthy();
    expect(slot.blobToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const wrong = await api(ferry().url, 'POST', '/api/shares', {
      body: {
        readerHash: 'a'.repeat(64),
        expiresInSeconds: 3600,
        maxDownloads: null,
        password: null,
        manifest: FAKE_MANIFEST,
        files: [{ reuse: { blobId: slot.blobId, blobToken: 'x'.repeat(43) } }],
      },
    });
    expect([wrong.status, errorCode(wrong)]).toEqual([403, 'FORBIDDEN']);

    const second = await createTestShare(ferry().url, [
      { reuse: { blobId: slot.blobId!, blobToken: slot.blobToken! } },
    ]);
    expect(second.files[0]).toMatchObject({ size: 5000, sealed: true, uploaded: 5000 });
    const done = await api(ferry().url, 'PATCH', `/api/shares/${second.id}`, {
      token: second.ownerToken,
      body: { complete: true },
    });
    expect(done.status).toBe(200);

    // The first share goes away; the blob lives on for the second.
    expect((await api(ferry().url, 'DELETE', `/api/shares/${first.id}`, { token: first.ownerToken })).status).toBe(204);
    await ferry().sweeper.sweep();
    const { ticket } = (await ticketFor(ferry().url, second, [0])).json as { ticket: string };
    const got = await fetchFile(ferry().url, second, 0, ticket);
    expect(got.bytes.equals(bytes)).toBe(true);

    // Uploading into a reused (sealed) slot is refused.
    const refused = tusUpload(ferry().url, second, 0, bytes).promise;
    await expect(refused).rejects.toThrow(/409|CONFLICT/);
  });

  it('lets the owner replace the manifest and extend the expiry', async () => {
    const share = await createTestShare(ferry().url, [{ size: 16 }]);
    const manifest = 'bmV3LW1hbmlmZXN0';
    const patched = await api(ferry().url, 'PATCH', `/api/shares/${share.id}`, {
      token: share.ownerToken,
      body: { manifest, expiresInSeconds: 7200 },
    });
    expect(patched.status).toBe(200);
    expect((patched.json as ShareOwnerView).expiresAt).toBe(ferry().clock.now + 7_200_000);
    const read = await api(ferry().url, 'GET', `/api/shares/${share.id}/manifest`, { token: share.readerToken });
    expect((read.json as ShareManifestResponse).manifest).toBe(manifest);
    const notOwner = await api(ferry().url, 'PATCH', `/api/shares/${share.id}`, {
      token: share.readerToken,
      body: { expiresInSeconds: 7200 },
    });
    expect([notOwner.status, errorCode(notOwner)]).toEqual([401, 'UNAUTHORIZED']);
  });
});
