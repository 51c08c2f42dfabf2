/**
 * Idle keep-alive connections (FERRY_KEEP_ALIVE_MS): a balancer reuses its idle connections
 * to a node for any client, so the node must keep them longer than the balancer does
 * (deploy/haproxy.cfg); a request sent on a connection the node was closing was lost. Here
 * the connection outlives headersTimeout while idle, takes a second request, and is closed
 * by the node only after keepAliveMs.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromProcess } from '../config.ts';
import { startTestServer, type TestServer } from '../test-support.ts';

const KEEP_ALIVE_MS = 2000;
const HEADERS_TIMEOUT_MS = 500;

let ferry: TestServer;
beforeAll(async () => {
  ferry = await startTestServer({ keepAliveMs: KEEP_ALIVE_MS, headersTimeoutMs: HEADERS_TIMEOUT_MS });
});
afterAll(async () => {
  await ferry.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends GET /health on `socket` and resolves with the whole answer's head. */
function health(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const onData = (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const head = answer.indexOf('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(answer)?.[1] ?? Number.NaN);
      if (head >= 0 && answer.length >= head + 4 + length) {
        socket.off('data', onData);
        resolve(answer.slice(0, head));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed before the answer: ${answer}`)));
    socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
  });
}

describe('idle keep-alive connections', () => {
  it('stay open past headersTimeout, take the next request, and close after keepAliveMs', async () => {
    const socket = net.connect(ferry.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    const first = await health(socket);
    expect(first).toMatch(/^HTTP\/1\.1 200/);
    expect(first).toMatch(/\r\nKeep-Alive: timeout=2(\r\n|$)/i);

    // Idle for longer than headersTimeout: its clock runs only while a request is parsed.
    await sleep(HEADERS_TIMEOUT_MS * 3);
    expect(socket.destroyed).toBe(false);
    expect(await health(socket)).toMatch(/^HTTP\/1\.1 200/);

    const idleFrom = Date.now();
    await new Promise((resolve) => socket.once('close', resolve));
    const idle = Date.now() - idleFrom;
    expect(idle).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 100);
    expect(idle).toBeLessThan(KEEP_ALIVE_MS + 3000);
  });

  it('default to 65 s, longer than balancers keep an idle connection to a node; FERRY_KEEP_ALIVE_MS sets it', () => {
    expect(configFromProcess([], {}).keepAliveMs).toBe(65_000);
    expect(configFromProcess([], { FERRY_KEEP_ALIVE_MS: '90000' }).keepAliveMs).toBe(90_000);
  });
});
