/** tus uploads tied to shares: what is stored, what is refused, how an interrupted sender recovers. */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ShareOwnerView } from '../../shared/api.ts';
import {
  api,
  createTestShare,
  serverForFile,
  startTestServer,
  type TestShare,
  tusUpload,
  uploadAndComplete,
} from '../test-support.ts';

const ferry = serverForFile();

const b64 = (text: string) => Buffer.from(text).toString('base64');
const filesDir = () => path.join(ferry().dataDir, 'files');

function tusAuth(share: TestShare): Record<string, string> {
  return { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${share.uploadToken}` };
}

function createUpload(share: TestShare, size: number, metadata: string): Promise<Response> {
  return fetch(`${ferry().url}/files/`, {
    method: 'POST',
    headers: { ...tusAuth(share), 'Upload-Length': String(size), 'Upload-Metadata': metadata },
  });
}

describe('tus metadata', () => {
  it('refuses any key besides share and index, and stores only those two', async () => {
    const share = await createTestShare(ferry().url, [{ size: 64 }]);
    const before = readdirSync(filesDir());
    const named = await createUpload(share, 64, `share ${b64(share.id)},index ${b64('0')},filename ${b64('tax.pdf')}`);
    expect(named.status).toBe(400);
    expect(((await named.json()) as { error: { code: string } }).error.code).toBe('INVALID_METADATA');
    const flag = await createUpload(share, 64, `share ${b64(share.id)},index ${b64('0')},is_confidential`);
    expect(flag.status).toBe(400);
    expect(readdirSync(filesDir())).toEqual(before);

    const ok = await createUpload(share, 64, `share ${b64(share.id)},index ${b64('0')}`);
    expect(ok.status).toBe(201);
    const id = ok.headers.get('location')!.split('/').pop()!;
    const info = JSON.parse(readFileSync(path.join(filesDir(), `${id}.json`), 'utf8')) as { metadata: unknown };
    expect(info.metadata).toEqual({ share: share.id, index: '0' });
    const head = await fetch(`${ferry().url}/files/${id}`, { method: 'HEAD', headers: tusAuth(share) });
    expect(head.headers.get('upload-metadata')).toBe(`share ${b64(share.id)},index ${b64('0')}`);
  });
});

describe('a lost answer to POST', () => {
  it('answers a repeated POST with 409 CONFLICT naming the way out, and the owner view names the upload', async () => {
    const bytes = randomBytes(5000);
    const share = await createTestShare(ferry().url, [{ size: bytes.length }]);
    const meta = `share ${b64(share.id)},index ${b64('0')}`;
    const lost = await createUpload(share, bytes.length, meta);
    expect(lost.status).toBe(201);
    const uploadId = lost.headers.get('location')!.split('/').pop()!;

    const again = await createUpload(share, bytes.length, meta);
    expect(again.status).toBe(409);
    const { error } = (await again.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toMatch(/^File 0 already has an upload in progress; resume it/);

    const owner = await api(ferry().url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken });
    const slot = (owner.json as ShareOwnerView).files[0]!;
    expect(slot).toMatchObject({ blobId: uploadId, blobToken: null, sealed: false, uploaded: 0 });
    await tusUpload(ferry().url, share, 0, bytes, { uploadUrl: `${ferry().url}/files/${slot.blobId}` }).promise;

    // A finished file says so instead.
    const done = await createUpload(share, bytes.length, meta);
    expect(done.status).toBe(409);
    expect(((await done.json()) as { error: { message: string } }).error.message).toBe('File 0 is already uploaded.');
    await uploadAndComplete(ferry().url, share, []);
  });
});

describe('sealed uploads and the tus expiry', () => {
  it('still answers HEAD with the full offset for a sealed upload older than the expiry', async () => {
    const short = await startTestServer({ uploadExpiryMs: 600 });
    try {
      const bytes = randomBytes(3000);
      const share = await createTestShare(short.url, [{ size: bytes.length }, { size: 100 }]);
      const url = await tusUpload(short.url, share, 0, bytes).promise;
      await new Promise((r) => setTimeout(r, 800));
      const head = await fetch(url, { method: 'HEAD', headers: tusAuth(share) });
      expect([head.status, head.headers.get('upload-offset')]).toEqual([200, '3000']);
      // tus-js-client resuming it (a sender coming back the next day) finds it complete.
      await tusUpload(short.url, share, 0, bytes, { uploadUrl: url }).promise;
      await short.sweeper.sweep();
      expect((await fetch(url, { method: 'HEAD', headers: tusAuth(share) })).status).toBe(200);
    } finally {
      await short.stop();
    }
  });
});
