/** Stalled connections: closed after socketIdleMs without a byte, and they hold no ticket alive. */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../../shared/keys.ts';
import { createTestShare, startTestServer, type TestServer, ticketFor, uploadAndComplete } from '../test-support.ts';

const SOCKET_IDLE_MS = 2600;
let ferry: TestServer;
beforeAll(async () => {
  // Tickets renewed every second while bytes flow (a third of the idle time).
  ferry = await startTestServer({ socketIdleMs: SOCKET_IDLE_MS, ticketIdleMs: 3000 });
});
afterAll(async () => {
  await ferry.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the milliseconds until `emitter` emits `event`, or undefined after `limitMs`. */
function timeUntil(emitter: NodeJS.EventEmitter, event: string, limitMs: number): Promise<number | undefined> {
  const started = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), limitMs);
    emitter.once(event, () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

describe('idle connections', () => {
  it('closes a connection whose request body stalls', async () => {
    const socket = net.connect(ferry.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.resume();
    socket.write(
      'POST /api/shares HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
    );
    const closedAfter = await timeUntil(socket, 'close', SOCKET_IDLE_MS + 2000);
    socket.destroy();
    expect(closedAfter).toBeDefined();
    expect(closedAfter).toBeGreaterThanOrEqual(SOCKET_IDLE_MS - 100);
  });

  it('stops renewing the ticket of a download the client stopped reading, then closes it', async () => {
    // Far more than loopback socket buffers hold, so the server's writes really stall.
    const bytes = randomBytes(32 * 1024 * 1024);
    const share = await createTestShare(ferry.url, [{ size: bytes.length }], { maxDownloads: 1 });
    await uploadAndComplete(ferry.url, share, [bytes]);
    const { ticket } = (await ticketFor(ferry.url, share, [0])).json as { ticket: string };
    const hash = await tokenHash(ticket);

    // A client that sends the request and never reads a byte of the answer.
    const serverSide = new Promise<net.Socket>((resolve) => ferry.server.once('connection', resolve));
    const client = net.connect(ferry.port, '127.0.0.1');
    client.pause();
    client.on('error', () => undefined);
    client.write(
      `GET /api/shares/${share.id}/files/0 HTTP/1.1\r\nHost: localhost\r\n` +
        `Authorization: Bearer ${share.readerToken}\r\nFerry-Ticket: ${ticket}\r\n\r\n`,
    );
    const closed = timeUntil(await serverSide, 'close', 2 * SOCKET_IDLE_MS + 2000);
    // Let the buffers fill and the first renewal (bytes did flow before that) pass.
    await sleep(1300);
    const before = (await ferry.shares.getTicket(hash))!.lastActiveAt;
    ferry.clock.advance(1000);
    await sleep(1100);
    expect((await ferry.shares.getTicket(hash))!.lastActiveAt).toBe(before);

    // Node suppresses the first timeout while a write is queued, so this takes one to two idle periods.
    expect(await closed).toBeDefined();
    client.destroy();
  });
});
