import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFetch } from './http-fetch.ts';

let server: Server;
let base = '';
const unused = async () => {
  throw new Error('the fallback was used');
};
const fetchOver = httpFetch(unused as typeof fetch);

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      if (req.url === '/empty') return void res.writeHead(204).end();
      if (req.url === '/moved') return void res.writeHead(302, { location: '/echo' }).end();
      if (req.url === '/big') {
        res.writeHead(206, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < 64; i++) res.write(Buffer.alloc(64 * 1024, i));
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ method: req.method, body, auth: req.headers.authorization, range: req.headers.range }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('fetch over node:http', () => {
  it('sends the method, headers and body, and answers a Response with status and headers', async () => {
    const response = await fetchOver(`${base}/echo`, {
      method: 'POST',
      headers: { Authorization: 'Bearer t', Range: 'bytes=5-' },
      body: '{"x":1}',
    });
    expect(response.status).toBe(200);
    expect(response.ok).toBe(true);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ method: 'POST', body: '{"x":1}', auth: 'Bearer t', range: 'bytes=5-' });
  });

  it('streams a body, gives a 204 no body, and follows a redirect', async () => {
    const big = await fetchOver(`${base}/big`);
    expect(big.status).toBe(206);
    let total = 0;
    for await (const chunk of big.body as unknown as AsyncIterable<Uint8Array>) total += chunk.length;
    expect(total).toBe(64 * 64 * 1024);
    const empty = await fetchOver(`${base}/empty`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    expect(await (await fetchOver(`${base}/moved`)).json()).toMatchObject({ method: 'GET' });
  });

  it('rejects with a TypeError when the server cannot be reached, and on abort', async () => {
    await expect(fetchOver('http://127.0.0.1:9/')).rejects.toThrow(TypeError);
    const controller = new AbortController();
    controller.abort();
    await expect(fetchOver(`${base}/echo`, { signal: controller.signal })).rejects.toThrow();
  });

  it('leaves what it does not cover to the fallback', async () => {
    let used = 0;
    const fallback = (async () => {
      used++;
      return new Response('fallback');
    }) as typeof fetch;
    const over = httpFetch(fallback);
    await over(new URL(`${base}/echo`));
    await over(`${base}/echo`, { headers: new Headers({ a: 'b' }) });
    await over('data:,hello');
    expect(used).toBe(3);
  });
});
