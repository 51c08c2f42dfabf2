/**
 * fetch() for `ferry` over node:http, installed as the global one at start.
 *
 * Node's own fetch (undici) parses HTTP with llhttp compiled to WebAssembly on the first
 * request, and compiling it lifts the process's peak RSS by about 30 MiB (84 MiB against
 * 44 MiB for one GET with node:http, measured on Node 20.20), a fifth of the memory
 * `ferry send` may use (README "Command line"). node:http parses with the llhttp built
 * into Node. What shared/http-client.ts sends is covered: a URL string, a method, headers
 * as a record, a string or bytes body, an AbortSignal; the body of the answer streams.
 * Anything else goes to Node's fetch.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

/** Connections are kept for the next request (a send makes a few API calls in a row). */
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

type Body = string | Uint8Array | null | undefined;

function plainHeaders(headers: RequestInit['headers']): Record<string, string> | null {
  if (headers === undefined) return {};
  if (headers instanceof Headers || Array.isArray(headers)) return null;
  return headers as Record<string, string>;
}

/** Answers what Node's fetch would for the requests this command makes. */
export function httpFetch(fallback: typeof fetch): typeof fetch {
  return (input, init = {}) => {
    const headers = plainHeaders(init.headers);
    const body = init.body as unknown;
    const simpleBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
    if (typeof input !== 'string' || headers === null || !simpleBody || (init.redirect ?? 'follow') !== 'follow') {
      return fallback(input, init);
    }
    const url = new URL(input);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fallback(input, init);
    return send(url, init.method ?? 'GET', headers, body as Body, init.signal ?? undefined);
  };
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Body,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const transport = url.protocol === 'https:' ? https : http;
  const agent = agents[url.protocol as 'http:' | 'https:'];
  return new Promise<Response>((resolve, reject) => {
    const request = transport.request(url, { method, headers, agent, signal }, (answer) => {
      const status = answer.statusCode ?? 0;
      const location = answer.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location) {
        answer.resume();
        const next = new URL(location, url);
        const keep = status === 307 || status === 308;
        send(next, keep ? method : 'GET', headers, keep ? body : null, signal).then(resolve, reject);
        return;
      }
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value === undefined) continue;
        for (const one of Array.isArray(value) ? value : [value]) responseHeaders.append(name, one);
      }
      // A null-body status (Fetch §2.2.3) may not carry a stream.
      const empty = status === 204 || status === 304 || method === 'HEAD';
      if (empty) answer.resume();
      const stream = empty ? null : (Readable.toWeb(answer) as ReadableStream<Uint8Array>);
      resolve(new Response(stream, { status, statusText: answer.statusMessage ?? '', headers: responseHeaders }));
    });
    request.once('error', (error) => reject(new TypeError('fetch failed', { cause: error })));
    request.end(body ?? undefined);
  });
}

/** Makes httpFetch the global fetch (once, at start). */
export function installHttpFetch(): void {
  globalThis.fetch = httpFetch(globalThis.fetch.bind(globalThis));
}
