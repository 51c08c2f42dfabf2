/**
 * Issue 9, found 4: another site could make a visitor's browser create shares and request
 * links with a "simple" POST (Content-Type: text/plain needs no CORS preflight), spending
 * that visitor's rate limit. JSON bodies must say application/json (415), and requests a
 * browser marks as cross-site are refused (403) before any handler, limiter or body read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestShare, newShareBody, startTestServer, type TestServer } from '../test-support.ts';

let ferry: TestServer;
beforeAll(async () => {
  // A small burst: a refused cross-site request must not spend it.
  ferry = await startTestServer({ createRate: { burst: 2, perMinute: 0.001 } });
});
afterAll(async () => {
  await ferry.stop();
});

const shareBody = async () => (await newShareBody([{ size: 16 }])).body;

async function post(path: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(ferry.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = (await res.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
  return { status: res.status, code: json?.error?.code };
}

const REQUEST_BODY = { maxBytes: 10_000, maxFiles: 3, expiresInSeconds: 3600 };
const JSON_TYPE = { 'Content-Type': 'application/json' };
const host = () => new URL(ferry.url).host;

describe('cross-site requests', () => {
  it('refuses a text/plain body to /api/shares and /api/requests with 415', async () => {
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) {
      expect(await post('/api/shares', await shareBody(), { 'Content-Type': type })).toEqual({
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      });
      expect(await post('/api/requests', REQUEST_BODY, { 'Content-Type': type })).toEqual({
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      });
    }
  });

  it('refuses what a browser marks as cross-site or same-site, before spending the rate limit', async () => {
    const refused: Record<string, string>[] = [
      { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' },
      { 'Sec-Fetch-Site': 'same-site', Origin: 'https://other.example' },
      { Origin: 'https://evil.example' }, // a browser without Fetch Metadata
      { Origin: 'null' }, // a sandboxed frame
    ];
    for (const headers of refused) {
      for (let i = 0; i < 3; i++) {
        expect(await post('/api/shares', await shareBody(), { ...JSON_TYPE, ...headers })).toEqual({
          status: 403,
          code: 'FORBIDDEN',
        });
        expect(await post('/api/requests', REQUEST_BODY, { ...JSON_TYPE, ...headers })).toMatchObject({
          status: 403,
        });
      }
    }
    // Ferry's own page (and a client with neither header) still has its whole burst.
    const own = { 'Sec-Fetch-Site': 'same-origin', Origin: `http://${host()}` };
    expect((await post('/api/shares', await shareBody(), { ...JSON_TYPE, ...own })).status).toBe(201);
    expect((await post('/api/shares', await shareBody(), { ...JSON_TYPE, Origin: `http://${host()}` })).status).toBe(
      201,
    );
    expect((await post('/api/shares', await shareBody(), JSON_TYPE)).status).toBe(429);
  });

  it('refuses cross-site revokes and uploads too, and leaves reads alone', async () => {
    const share = await createTestShare(ferry.url, [{ size: 16 }]).catch(() => undefined);
    // The burst is spent by now; the checks below need no share of their own to be refused.
    const id = share?.id ?? 'AAAAAAAAAAAAAAAA';
    const cross = { 'Sec-Fetch-Site': 'cross-site' };
    expect((await fetch(`${ferry.url}/api/shares/${id}`, { method: 'DELETE', headers: cross })).status).toBe(403);
    expect(
      (await fetch(`${ferry.url}/files/`, { method: 'POST', headers: { ...cross, 'Tus-Resumable': '1.0.0' } })).status,
    ).toBe(403);
    expect((await fetch(`${ferry.url}/health`, { headers: cross })).status).toBe(200);
  });
});
