import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestShare, startTestServer, tusUpload } from '../test-support.ts';
import { nodeBody, readBodiesUncopied, useNodeBody } from './request-body.ts';

/** Starts a server that hands each request to `onRequest`; resolves with its URL and a stop function. */
async function serve(onRequest: (req: IncomingMessage, res: http.ServerResponse) => void) {
  const server = http.createServer(onRequest);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, stop: () => new Promise<void>((done) => server.close(() => done())) };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('nodeBody', () => {
  it('streams the body byte for byte as the socket’s own Buffers', async () => {
    const sent = randomBytes(3 * 1024 * 1024 + 17);
    let chunks: Uint8Array[] = [];
    const server = await serve(async (req, res) => {
      chunks = await readAll(nodeBody(req));
      res.end();
    });
    try {
      const res = await fetch(server.url, { method: 'PUT', body: sent });
      expect(res.status).toBe(200);
      // Readable.toWeb would hand on Uint8Array copies; these are the request's Buffers.
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.every((chunk) => Buffer.isBuffer(chunk))).toBe(true);
      expect(Buffer.concat(chunks).equals(sent)).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('errors when the client drops the connection mid-body', async () => {
    let outcome: Promise<unknown> = Promise.resolve();
    let onArrival: () => void = () => undefined;
    const arrived = new Promise<void>((done) => {
      onArrival = done;
    });
    const server = await serve((req) => {
      outcome = readAll(nodeBody(req));
      outcome.catch(() => undefined);
      req.once('data', onArrival);
    });
    try {
      const { port } = new URL(server.url);
      const client = http.request({ host: '127.0.0.1', port, method: 'PUT', headers: { 'Content-Length': 1000 } });
      client.on('error', () => undefined);
      client.write(Buffer.alloc(100));
      await arrived;
      client.destroy();
      await expect(outcome).rejects.toThrow();
    } finally {
      await server.stop();
    }
  });
});

describe('useNodeBody', () => {
  it('leaves a plain Request and a GET as they are', () => {
    const plain = new Request('http://x/files/1', { method: 'PATCH', body: 'abc' });
    expect(useNodeBody(plain).body).toBe(plain.body);
    const get = new Request('http://x/files/1');
    expect(useNodeBody(get).body).toBeNull();
  });

  it('reads a Node request’s body only once the body is asked for', async () => {
    const sent = randomBytes(200_000);
    let listenersBefore = -1;
    let got = Buffer.alloc(0);
    const server = await serve(async (req, res) => {
      const request = Object.assign(new Request('http://x/files/1', { method: 'PATCH', body: 'other' }), {
        runtime: { node: { req } },
      });
      useNodeBody(request);
      listenersBefore = req.listenerCount('data');
      const body = request.body;
      if (!body) throw new Error('no body');
      got = Buffer.concat(await readAll(body));
      res.end();
    });
    try {
      expect((await fetch(server.url, { method: 'PATCH', body: sent })).status).toBe(200);
      expect(listenersBefore).toBe(0);
      expect(got.equals(sent)).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('is false for an object without tus’s handler', () => {
    expect(readBodiesUncopied({})).toBe(false);
  });
});

/** One request on `agent`: status and body text. */
function send(agent: http.Agent, url: string, method: string, headers: Record<string, string>, body?: Buffer) {
  return new Promise<{ status: number; text: string; socket: unknown }>((resolve, reject) => {
    const req = http.request(url, { agent, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), socket: req.socket }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('tus PATCH bodies', () => {
  it('leave the connection usable when tus refuses a PATCH without reading its body', async () => {
    const ferry = await startTestServer();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await send(
        agent,
        `${ferry.url}/files/nosuchupload`,
        'PATCH',
        {
          'Tus-Resumable': '1.0.0',
          Authorization: 'Bearer wrong',
          'Upload-Offset': '0',
          'Content-Type': 'application/offset+octet-stream',
        },
        randomBytes(1024 * 1024),
      );
      expect(refused.status).toBeGreaterThanOrEqual(400);
      const health = await send(agent, `${ferry.url}/health`, 'GET', {});
      expect(health.status).toBe(200);
    } finally {
      agent.destroy();
      await ferry.stop();
    }
  });

  it('reach the file store uncopied and intact', async () => {
    const ferry = await startTestServer();
    try {
      const toWeb = vi.spyOn(Readable, 'toWeb');
      const share = await createTestShare(ferry.url, [{ size: 2 * 1024 * 1024 }]);
      const bytes = randomBytes(2 * 1024 * 1024);
      const url = await tusUpload(ferry.url, share, 0, bytes, { chunkSize: 512 * 1024 }).promise;
      expect(toWeb).not.toHaveBeenCalled();
      const id = url.split('/').pop() ?? '';
      expect(readFileSync(path.join(ferry.dataDir, 'files', id)).equals(bytes)).toBe(true);
    } finally {
      await ferry.stop();
    }
  });
});
