/**
 * Issue 9, found 6: a JSON body sent at 1 byte per 5 s was never cut off (the idle timeout
 * sees a busy socket), slow headers were cut only after Node's 60 s, and one address could
 * open any number of connections. Now an API body has a deadline (408), headers one of
 * their own, a tus PATCH body none (it may be large) but still the idle timeout, and
 * connections per address are capped (429).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestShare, startTestServer, type TestServer } from '../test-support.ts';

const BODY_TIMEOUT_MS = 1500;
const HEADERS_TIMEOUT_MS = 1500;
const SOCKET_IDLE_MS = 2500;
const MAX_CONNECTIONS = 6;

let ferry: TestServer;
beforeAll(async () => {
  ferry = await startTestServer({
    bodyTimeoutMs: BODY_TIMEOUT_MS,
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    socketIdleMs: SOCKET_IDLE_MS,
  });
});
afterAll(async () => {
  await ferry.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw connection that collects what the server answers and says when it closed. */
function connect(port = ferry.port) {
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  const started = Date.now();
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('latin1');
  });
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  return { socket, closed, answer: () => answer };
}

/** Writes `text` one byte every `everyMs` until it is written or the socket closes. */
async function trickle(socket: net.Socket, text: string, everyMs: number): Promise<void> {
  for (const char of text) {
    if (socket.destroyed || socket.writableEnded) return;
    socket.write(char);
    await sleep(everyMs);
  }
}

describe('slow clients', () => {
  it('answers 408 to a JSON body that trickles in, and closes the connection', async () => {
    const body = JSON.stringify({ maxBytes: 10_000, maxFiles: 3, expiresInSeconds: 3600 });
    const c = connect();
    c.socket.write(
      `POST /api/requests HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    // One byte every 250 ms: never idle, and 10 s for the whole body.
    void trickle(c.socket, body, 250);
    const closedAfter = await Promise.race([c.closed, sleep(BODY_TIMEOUT_MS + 4000).then(() => undefined)]);
    c.socket.destroy();
    expect(closedAfter).toBeDefined();
    expect(c.answer()).toMatch(/^HTTP\/1\.1 408 /);
    expect(c.answer()).toContain('"code":"REQUEST_TIMEOUT"');
    expect(c.answer().toLowerCase()).toContain('connection: close');
  });

  it('gives a JSON body that arrives in time its answer', async () => {
    const body = JSON.stringify({ maxBytes: 10_000, maxFiles: 3, expiresInSeconds: 3600 });
    const c = connect();
    c.socket.write(
      `POST /api/requests HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    await trickle(c.socket, body.slice(0, 10), 50);
    c.socket.write(body.slice(10));
    await c.closed;
    expect(c.answer()).toMatch(/^HTTP\/1\.1 201 /);
  });

  it('cuts headers that trickle in past the headers timeout', async () => {
    const c = connect();
    void trickle(c.socket, `GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`, 100);
    const closedAfter = await Promise.race([c.closed, sleep(HEADERS_TIMEOUT_MS + 6000).then(() => undefined)]);
    c.socket.destroy();
    expect(closedAfter).toBeDefined();
    expect(c.answer()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('lets a tus PATCH body take longer than the JSON deadline while bytes move, and cuts it when they stop', async () => {
    const size = 40;
    const share = await createTestShare(ferry.url, [{ size }]);
    const created = await fetch(`${ferry.url}/files/`, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        'Upload-Length': String(size),
        'Upload-Metadata': `share ${Buffer.from(share.id).toString('base64')},index ${Buffer.from('0').toString('base64')}`,
        Authorization: `Bearer ${share.uploadToken}`,
      },
    });
    expect(created.status).toBe(201);
    const uploadPath = new URL(created.headers.get('Location')!, ferry.url).pathname;
    const patch = (length: number, offset: number) =>
      `PATCH ${uploadPath} HTTP/1.1\r\nHost: localhost\r\nTus-Resumable: 1.0.0\r\n` +
      `Authorization: Bearer ${share.uploadToken}\r\nContent-Type: application/offset+octet-stream\r\n` +
      `Upload-Offset: ${offset}\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;

    // 20 bytes over ~2.4 s: longer than the JSON deadline, never idle.
    const steady = connect();
    steady.socket.write(patch(20, 0));
    await trickle(steady.socket, 'x'.repeat(20), 120);
    await steady.closed;
    expect(steady.answer()).toMatch(/^HTTP\/1\.1 204 /);
    expect(steady.answer()).toMatch(/Upload-Offset: 20/i);

    // The rest stalls after 5 bytes: closed after the idle timeout.
    const stalled = connect();
    stalled.socket.write(`${patch(20, 20)}xxxxx`);
    const closedAfter = await Promise.race([stalled.closed, sleep(3 * SOCKET_IDLE_MS).then(() => undefined)]);
    stalled.socket.destroy();
    expect(closedAfter).toBeGreaterThanOrEqual(SOCKET_IDLE_MS - 100);
  });

  it(`refuses a client's connection past ${MAX_CONNECTIONS} open ones with 429, and takes it again once one closes`, async () => {
    // A server of its own: no pooled connection of another test counts here.
    const capped = await startTestServer({ maxConnectionsPerIp: MAX_CONNECTIONS });
    const connectTo = () => connect(capped.port);
    try {
      const held = Array.from({ length: MAX_CONNECTIONS }, connectTo);
      await sleep(200);
      const over = connectTo();
      await over.closed;
      expect(over.answer()).toMatch(/^HTTP\/1\.1 429 /);
      expect(over.answer()).toMatch(/Retry-After: \d+/);
      expect(over.answer()).toContain('"code":"RATE_LIMITED"');
      // The held ones still work; once one has closed, a new connection is served.
      held[0]!.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      await held[0]!.closed;
      expect(held[0]!.answer()).toMatch(/^HTTP\/1\.1 200 /);
      const again = connectTo();
      again.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      await again.closed;
      expect(again.answer()).toMatch(/^HTTP\/1\.1 200 /);
      for (const c of held) c.socket.destroy();
    } finally {
      await capped.stop();
    }
  });
});
