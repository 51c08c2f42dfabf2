/**
 * Issue 9, must include 6: past the uploads in flight, or while the event loop lags, a new
 * transfer is refused with 503 OVERLOADED and Retry-After, and is taken once load is gone.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestShare, errorCode, startTestServer, type TestServer } from '../test-support.ts';

let ferry: TestServer;
beforeAll(async () => {
  ferry = await startTestServer({ overload: { maxUploads: 1, maxDownloads: 1, maxLagMs: 100 } });
});
afterAll(async () => {
  await ferry.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const b64 = (text: string) => Buffer.from(text).toString('base64');

async function createUpload(share: { id: string; uploadToken: string }, index: number) {
  const res = await fetch(`${ferry.url}/files/`, {
    method: 'POST',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Length': '100',
      'Upload-Metadata': `share ${b64(share.id)},index ${b64(String(index))}`,
      Authorization: `Bearer ${share.uploadToken}`,
    },
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    code: errorCode({ status: res.status, headers: res.headers, json: safeJson(text), text }),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

describe('backpressure', () => {
  it('refuses an upload past the uploads in flight with 503 and Retry-After, and takes it after', async () => {
    const share = await createTestShare(ferry.url, [{ size: 100 }, { size: 100 }]);
    const first = await createUpload(share, 0);
    expect(first.status).toBe(201);
    const path = new URL(first.headers.get('Location')!, ferry.url).pathname;

    // A PATCH that has sent 10 of its 100 bytes holds the one upload place.
    const socket = net.connect(ferry.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.write(
      `PATCH ${path} HTTP/1.1\r\nHost: localhost\r\nTus-Resumable: 1.0.0\r\nAuthorization: Bearer ${share.uploadToken}\r\n` +
        `Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: 100\r\nConnection: close\r\n\r\n${'x'.repeat(10)}`,
    );
    await sleep(200);
    const refused = await createUpload(share, 1);
    expect(refused.status).toBe(503);
    expect(refused.code).toBe('OVERLOADED');
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);

    socket.write('x'.repeat(90));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 204 /);
    expect((await createUpload(share, 1)).status).toBe(201);
  });

  it('refuses new transfers while the event loop lags, and takes them when it recovers', async () => {
    const share = await createTestShare(ferry.url, [{ size: 100 }, { size: 100 }]);
    const until = performance.now() + 600;
    while (performance.now() < until) {
      // The server shares this process: keep its event loop busy.
    }
    await sleep(20); // the lag tick runs, 500 ms late
    expect(ferry.overload.lagMs).toBeGreaterThan(100);
    const refused = await createUpload(share, 0);
    expect(refused.status).toBe(503);
    expect(refused.code).toBe('OVERLOADED');
    await sleep(300);
    expect((await createUpload(share, 0)).status).toBe(201);
  });
});
