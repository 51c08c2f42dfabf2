/**
 * The request log on a real server: one JSON line per request with its id (also answered
 * as X-Request-Id), route pattern, method, status, body bytes and duration, and none of the
 * secrets that travel in paths and headers (tokens, tickets, share ids) or the client
 * address unless FERRY_LOG_IP is on.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { refusedStatus, SignalClient } from '../signaling/test-client.ts';
import {
  api,
  capturedLogger,
  createTestShare,
  fetchFile,
  type LogEntry,
  serverForFile,
  ticketFor,
  tusUpload,
  uploadAndComplete,
} from '../test-support.ts';

interface RequestLine extends LogEntry {
  reqId: string;
  method: string;
  route: string | null;
  status: number;
  bytesIn: number;
  bytesOut: number;
  ms: number;
  ip?: string;
  aborted?: boolean;
}

/** A captured logger, with the request lines picked out. */
function captured() {
  const log = capturedLogger();
  const requests = () => log.entries().filter((entry): entry is RequestLine => entry.msg === 'request');
  return { ...log, requests };
}

const plain = captured();
const ferry = serverForFile({ logger: plain.logger });
const withIp = captured();
const ipServer = serverForFile({ logger: withIp.logger, logIp: true });

/** The line of the request that was answered with this X-Request-Id (written when it closed). */
async function lineOf(log: ReturnType<typeof captured>, res: { headers: Headers }): Promise<RequestLine> {
  const id = res.headers.get('x-request-id');
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  await expect.poll(() => log.requests().find((line) => line.reqId === id)).toBeDefined();
  return log.requests().find((line) => line.reqId === id)!;
}

describe('request log', () => {
  it('writes one line per request: id, route pattern, status, bytes, duration', async () => {
    const base = ferry().url;
    const bytes = randomBytes(50_000);
    const share = await createTestShare(base, [{ size: bytes.length }]);
    await uploadAndComplete(base, share, [bytes]);
    const ticket = await ticketFor(base, share, [0]);
    const res = await fetch(`${base}/api/shares/${share.id}/files/0`, {
      headers: {
        Authorization: `Bearer ${share.readerToken}`,
        'Ferry-Ticket': (ticket.json as { ticket: string }).ticket,
      },
    });
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);

    expect(await lineOf(plain, res)).toEqual({
      level: 30,
      time: expect.any(Number),
      service: 'ferry',
      pid: process.pid,
      msg: 'request',
      reqId: res.headers.get('x-request-id'),
      method: 'GET',
      route: '/api/shares/:id/files/:index',
      status: 200,
      bytesIn: 0,
      bytesOut: bytes.length,
      ms: expect.any(Number),
    });
    const patch = plain.requests().find((line) => line.method === 'PATCH' && line.route === '/files/:id');
    expect(patch).toMatchObject({ status: 204, bytesIn: bytes.length, bytesOut: 0 });
    const create = plain.requests().find((line) => line.method === 'POST' && line.route === '/api/shares');
    expect(create).toMatchObject({ status: 201 });
    expect(create!.bytesIn).toBeGreaterThan(100);
    expect(create!.bytesOut).toBeGreaterThan(100);
    // Unmatched paths and the app's own routes (which carry share ids) have no path either.
    const missing = await api(base, 'GET', `/api/${share.id}/nothing`);
    expect(await lineOf(plain, missing)).toMatchObject({ route: null, status: 404 });
    const page = await fetch(`${base}/s/${share.id}`);
    expect(await lineOf(plain, page)).toMatchObject({ route: 'static', method: 'GET' });
  });

  it('never logs a token, a ticket, a share id or the client address', async () => {
    const base = ferry().url;
    const bytes = randomBytes(20_000);
    const share = await createTestShare(base, [{ size: bytes.length }], { password: null });
    const url = await tusUpload(base, share, 0, bytes).promise;
    await api(base, 'PATCH', `/api/shares/${share.id}`, { token: share.ownerToken, body: { complete: true } });
    await api(base, 'GET', `/api/shares/${share.id}/owner?token=${share.ownerToken}`, { token: share.ownerToken });
    await api(base, 'GET', `/api/shares/${share.id}/manifest`, { token: share.readerToken });
    const ticket = (await ticketFor(base, share, [0])).json as { ticket: string };
    const file = await fetchFile(base, share, 0, ticket.ticket, 'bytes=0-99');
    expect(file.status).toBe(206);
    await api(base, 'GET', `/api/shares/${share.id}/files/0`, { token: 'wrong-token-that-is-long-enough-000000000' });
    await expect.poll(() => plain.requests().length).toBeGreaterThanOrEqual(7);

    const log = plain.text();
    const uploadId = new URL(url).pathname.split('/').pop()!;
    for (const secret of [
      share.id,
      share.ownerToken,
      share.uploadToken,
      share.readerToken,
      ticket.ticket,
      uploadId,
      'wrong-token-that-is-long-enough',
      '127.0.0.1',
    ]) {
      expect(log, `the log holds ${secret}`).not.toContain(secret);
    }
    expect(plain.requests().every((line) => line.ip === undefined)).toBe(true);
  });

  it('marks a response the client cut off as aborted', async () => {
    const base = ferry().url;
    // Larger than loopback socket buffers hold: the server is still writing when the client goes.
    const bytes = randomBytes(32 * 1024 * 1024);
    const share = await createTestShare(base, [{ size: bytes.length }]);
    await uploadAndComplete(base, share, [bytes]);
    const ticket = (await ticketFor(base, share, [0])).json as { ticket: string };
    const abort = new AbortController();
    const res = await fetch(`${base}/api/shares/${share.id}/files/0`, {
      headers: { Authorization: `Bearer ${share.readerToken}`, 'Ferry-Ticket': ticket.ticket },
      signal: abort.signal,
    });
    await res.body!.getReader().read();
    abort.abort();
    const line = await lineOf(plain, res);
    expect(line).toMatchObject({ route: '/api/shares/:id/files/:index', status: 200, aborted: true });
    expect(line.bytesOut).toBeLessThan(bytes.length);
  });

  it('writes one line per signaling connection when it ends, and one per refused upgrade', async () => {
    const base = ferry().url;
    const before = plain.requests().length;
    const client = await SignalClient.connect(base);
    client.close();
    await client.closed;
    expect(await refusedStatus(base, '/signal/elsewhere')).toBe(404);
    await expect.poll(() => plain.requests().length).toBe(before + 2);
    const [accepted, refused] = plain
      .requests()
      .slice(before)
      .sort((a, b) => a.status - b.status);
    expect(accepted).toMatchObject({ method: 'GET', route: '/signal', status: 101 });
    expect(accepted!.bytesIn).toBeGreaterThan(0);
    expect(accepted!.bytesOut).toBeGreaterThan(0);
    expect(refused).toMatchObject({ method: 'GET', route: null, status: 404 });
  });

  it('logs the client address only when the operator enabled it', async () => {
    const res = await fetch(`${ipServer().url}/health`);
    expect(await lineOf(withIp, res)).toMatchObject({ route: '/health', status: 200, ip: '127.0.0.1' });
  });
});
