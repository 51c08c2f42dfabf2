/** Bad input over real HTTP: every refusal is a stable code in `{ error: { code, message } }`. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createTestShare,
  errorCode,
  FAKE_MANIFEST,
  newShareBody,
  startTestServer,
  type TestServer,
  type TestShare,
  tusUpload,
} from '../test-support.ts';

const MAX = 1024 * 1024;
let ferry: TestServer;
let share: TestShare;

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A raw request: the path is sent exactly as given (fetch would normalise it). */
function raw(
  method: string,
  pathname: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${ferry.url}/`, { method, path: pathname, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const codeOf = (body: string) => (JSON.parse(body) as { error: { code: string; message: string } }).error.code;

function tusPost(headers: Record<string, string>) {
  return raw('POST', '/files/', { 'Tus-Resumable': '1.0.0', ...headers });
}

function tusHeaders(target: TestShare, size: number, index = 0, token = target.uploadToken) {
  return {
    Authorization: `Bearer ${token}`,
    'Upload-Length': String(size),
    'Upload-Metadata': `share ${b64(target.id)},index ${b64(String(index))}`,
  };
}

beforeAll(async () => {
  ferry = await startTestServer({ maxUploadBytes: MAX, maxJsonBytes: 64 * 1024 });
  const dist = path.join(ferry.dataDir, 'dist');
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>Ferry</title>');
  writeFileSync(path.join(dist, 'assets', 'app-1a2b3c.js'), 'console.log(1)');
  share = await createTestShare(ferry.url, [{ size: 100 }, { size: 200 }]);
});
afterAll(async () => {
  await ferry.stop();
});

describe('tus requests', () => {
  it('answers protocol errors as JSON (412 for Tus-Resumable, as tus 1.0 requires)', async () => {
    const none = await raw('POST', '/files/', tusHeaders(share, 100));
    expect([none.status, codeOf(none.body), none.headers['tus-version']]).toEqual([412, 'BAD_REQUEST', '1.0.0']);
    const old = await tusPost({ ...tusHeaders(share, 100), 'Tus-Resumable': '0.2.2' });
    expect(old.status).toBe(412);
    const nan = await tusPost({ ...tusHeaders(share, 100), 'Upload-Length': 'abc' });
    expect([nan.status, codeOf(nan.body)]).toEqual([400, 'BAD_REQUEST']);
    expect(nan.headers['content-type']).toMatch(/application\/json/);
    const badMeta = await tusPost({ ...tusHeaders(share, 100), 'Upload-Metadata': 'share, ,index' });
    expect([badMeta.status, codeOf(badMeta.body)]).toEqual([400, 'BAD_REQUEST']);
    const noMeta = await tusPost({ Authorization: `Bearer ${share.uploadToken}`, 'Upload-Length': '100' });
    expect([noMeta.status, codeOf(noMeta.body)]).toEqual([400, 'INVALID_METADATA']);
    const notAShare = await tusPost({
      ...tusHeaders(share, 100),
      'Upload-Metadata': `share ${b64('../../etc')},index ${b64('0')}`,
    });
    expect([notAShare.status, codeOf(notAShare.body)]).toEqual([400, 'INVALID_METADATA']);
    const tusGet = await raw('GET', '/files/whatever');
    expect([tusGet.status, codeOf(tusGet.body)]).toEqual([405, 'METHOD_NOT_ALLOWED']);
  });

  it('refuses unknown shares, wrong or missing tokens, wrong lengths and taken slots', async () => {
    const unknown = await tusPost({
      ...tusHeaders(share, 100),
      'Upload-Metadata': `share ${b64('A'.repeat(16))},index ${b64('0')}`,
    });
    expect([unknown.status, codeOf(unknown.body)]).toEqual([404, 'SHARE_NOT_FOUND']);
    const wrong = await tusPost(tusHeaders(share, 100, 0, 'w'.repeat(43)));
    expect([wrong.status, codeOf(wrong.body)]).toEqual([401, 'UNAUTHORIZED']);
    const { Authorization: _, ...anonymous } = tusHeaders(share, 100);
    expect(codeOf((await tusPost(anonymous)).body)).toBe('UNAUTHORIZED');
    const reader = await tusPost(tusHeaders(share, 100, 0, share.readerToken));
    expect(codeOf(reader.body)).toBe('UNAUTHORIZED');
    const mismatch = await tusPost(tusHeaders(share, 99));
    expect([mismatch.status, codeOf(mismatch.body)]).toEqual([409, 'LENGTH_MISMATCH']);
    const noSlot = await tusPost(tusHeaders(share, 100, 7));
    expect([noSlot.status, codeOf(noSlot.body)]).toEqual([404, 'FILE_NOT_FOUND']);

    const created = await tusPost(tusHeaders(share, 100));
    expect(created.status).toBe(201);
    expect(created.headers.location).toMatch(/^\/files\/[A-Za-z0-9_-]{24}$/);
    const again = await tusPost(tusHeaders(share, 100));
    expect([again.status, codeOf(again.body)]).toEqual([409, 'CONFLICT']);

    const location = created.headers.location!;
    const head = await raw('HEAD', location, { 'Tus-Resumable': '1.0.0' });
    expect(head.status).toBe(401);
    const headOk = await raw('HEAD', location, {
      'Tus-Resumable': '1.0.0',
      Authorization: `Bearer ${share.uploadToken}`,
    });
    expect([headOk.status, headOk.headers['upload-offset']]).toEqual([200, '0']);
    const unknownUpload = await raw('HEAD', '/files/nope', { 'Tus-Resumable': '1.0.0' });
    expect(unknownUpload.status).toBe(404); // HEAD answers carry no body
    const patchUnknown = await raw('PATCH', '/files/nope', {
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': '0',
      'Content-Type': 'application/offset+octet-stream',
    });
    expect([patchUnknown.status, codeOf(patchUnknown.body)]).toEqual([404, 'NOT_FOUND']);

    // Terminating the unfinished upload frees the slot for a new one.
    const del = await raw('DELETE', location, {
      'Tus-Resumable': '1.0.0',
      Authorization: `Bearer ${share.uploadToken}`,
    });
    expect(del.status).toBe(204);
    expect((await tusPost(tusHeaders(share, 100))).status).toBe(201);
  });

  it('refuses an oversize upload with 413 before storing a byte', async () => {
    const big = await createTestShare(ferry.url, [{ size: MAX }]);
    const before = readdirSync(path.join(ferry.dataDir, 'files'));
    const over = await tusPost(tusHeaders(big, MAX + 1));
    expect([over.status, codeOf(over.body)]).toEqual([413, 'TOO_LARGE']);
    expect(readdirSync(path.join(ferry.dataDir, 'files'))).toEqual(before);
    const tooBig = await api(ferry.url, 'POST', '/api/shares', {
      body: {
        readerHash: 'a'.repeat(64),
        expiresInSeconds: 3600,
        maxDownloads: null,
        password: null,
        manifest: FAKE_MANIFEST,
        files: [{ size: MAX }, { size: 16 }],
      },
    });
    expect([tooBig.status, errorCode(tooBig)]).toEqual([413, 'TOO_LARGE']);
  });

  it('refuses PATCH and DELETE on a sealed upload', async () => {
    const sealedShare = await createTestShare(ferry.url, [{ size: 64 }]);
    const url = await tusUpload(ferry.url, sealedShare, 0, randomBytes(64)).promise;
    const location = new URL(url).pathname;
    const auth = { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${sealedShare.uploadToken}` };
    const patch = await raw(
      'PATCH',
      location,
      { ...auth, 'Upload-Offset': '64', 'Content-Type': 'application/offset+octet-stream' },
      Buffer.alloc(1),
    );
    expect([patch.status, codeOf(patch.body)]).toEqual([409, 'UPLOAD_SEALED']);
    const del = await raw('DELETE', location, auth);
    expect([del.status, codeOf(del.body)]).toEqual([409, 'UPLOAD_SEALED']);
  });
});

describe('share API input', () => {
  it('refuses bad JSON, oversize bodies and unknown fields', async () => {
    const notJson = await api(ferry.url, 'POST', '/api/shares', { body: '{"readerHash":' });
    expect([notJson.status, errorCode(notJson)]).toEqual([400, 'INVALID_BODY']);
    const huge = await api(ferry.url, 'POST', '/api/shares', { body: `"${'x'.repeat(70_000)}"` });
    expect([huge.status, errorCode(huge)]).toEqual([413, 'TOO_LARGE']);
    const extra = await api(ferry.url, 'PATCH', `/api/shares/${share.id}`, {
      token: share.ownerToken,
      body: { expiresInSeconds: 3600, isAdmin: true },
    });
    expect([extra.status, errorCode(extra)]).toEqual([400, 'INVALID_BODY']);
    const wrongType = await api(ferry.url, 'POST', `/api/shares/${share.id}/downloads`, {
      token: share.readerToken,
      body: { files: ['0'] },
    });
    expect([wrongType.status, errorCode(wrongType)]).toEqual([400, 'INVALID_BODY']);
  });

  it('answers unknown routes, wrong methods, bad ids and bad tokens with stable codes', async () => {
    const unknown = await api(ferry.url, 'GET', '/api/nope');
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'NOT_FOUND']);
    const method = await api(ferry.url, 'PUT', `/api/shares/${share.id}`);
    expect([method.status, errorCode(method), method.headers.get('allow')]).toEqual([
      405,
      'METHOD_NOT_ALLOWED',
      'GET, PATCH, DELETE',
    ]);
    for (const id of ['..%2F..%2Fpackage.json', '%2e%2e', 'short', `${share.id}x`, "1' OR '1'='1"]) {
      const answer = await raw('GET', `/api/shares/${encodeURI(id)}`);
      expect([answer.status, codeOf(answer.body)]).toEqual([404, 'SHARE_NOT_FOUND']);
    }
    const noToken = await api(ferry.url, 'GET', `/api/shares/${share.id}/manifest`);
    expect([noToken.status, errorCode(noToken)]).toEqual([401, 'UNAUTHORIZED']);
    const badToken = await api(ferry.url, 'GET', `/api/shares/${share.id}/owner`, { token: share.readerToken });
    expect([badToken.status, errorCode(badToken)]).toEqual([401, 'UNAUTHORIZED']);
    const garbage = await api(ferry.url, 'DELETE', `/api/shares/${share.id}`, {
      headers: { Authorization: 'Basic Zm9v' },
    });
    expect(errorCode(garbage)).toBe('UNAUTHORIZED');
  });

  it('rate-limits share creation per address', async () => {
    const limited = await startTestServer({ createRate: { burst: 2, perMinute: 1 } });
    try {
      await createTestShare(limited.url, [{ size: 16 }]);
      await createTestShare(limited.url, [{ size: 16 }]);
      await expect(createTestShare(limited.url, [{ size: 16 }])).rejects.toThrow(/429.*RATE_LIMITED/);
    } finally {
      await limited.stop();
    }
  });

  it('behind a trusted proxy, limits each forwarded client network, not the proxy', async () => {
    const create = async (base: string, forwardedFor: string) => {
      const { body } = await newShareBody([{ size: 16 }]);
      return (await api(base, 'POST', '/api/shares', { body, headers: { 'X-Forwarded-For': forwardedFor } })).status;
    };
    const proxied = await startTestServer({ createRate: { burst: 2, perMinute: 1 }, trustedProxies: ['127.0.0.1'] });
    const direct = await startTestServer({ createRate: { burst: 2, perMinute: 1 } });
    try {
      // Two clients behind the proxy: each has its own burst (one /64 is one network).
      const a = [await create(proxied.url, '2001:db8:1:1::1'), await create(proxied.url, '2001:db8:1:1::2')];
      const b = [await create(proxied.url, '2001:db8:2:2::1'), await create(proxied.url, '198.51.100.7')];
      expect([...a, ...b]).toEqual([201, 201, 201, 201]);
      expect(await create(proxied.url, '2001:db8:1:1::3')).toBe(429);
      // A socket that is not a trusted proxy cannot pick its own key with the header.
      expect([await create(direct.url, '203.0.113.1'), await create(direct.url, '203.0.113.2')]).toEqual([201, 201]);
      expect(await create(direct.url, '203.0.113.3')).toBe(429);
    } finally {
      await proxied.stop();
      await direct.stop();
    }
  });
});

describe('static files', () => {
  it('never serves a file outside dist/', async () => {
    const attempts = [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2fpackage.json',
      '/%2e%2e%2fpackage.json',
      '/assets/..%2f..%2fpackage.json',
      '/..%5cpackage.json',
      '//package.json',
      '/assets/%00.js',
      '/%252e%252e/package.json',
    ];
    for (const attempt of attempts) {
      const answer = await raw('GET', attempt);
      expect(answer.body, attempt).not.toContain('"name": "ferry"');
      expect(answer.body).not.toContain('devDependencies');
    }
  });

  it('serves the app with security headers, caching rules and an SPA fallback', async () => {
    const index = await raw('GET', '/');
    expect(index.status).toBe(200);
    expect(index.headers['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['cache-control']).toBe('no-cache');
    const route = await raw('GET', `/s/${share.id}`);
    expect([route.status, route.body]).toEqual([200, '<!doctype html><title>Ferry</title>']);
    const asset = await raw('GET', '/assets/app-1a2b3c.js');
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toContain('immutable');
    const missing = await raw('GET', '/assets/missing.js');
    expect([missing.status, codeOf(missing.body)]).toEqual([404, 'NOT_FOUND']);
    const post = await raw('POST', '/');
    expect(post.status).toBe(405);
    const health = await api(ferry.url, 'GET', '/health');
    expect(health.json).toEqual({ ok: true, version: expect.any(String) });
  });
});
