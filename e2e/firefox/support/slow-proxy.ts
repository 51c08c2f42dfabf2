/**
 * A reverse proxy in front of the Ferry server that slows the files browsers download
 * (GET /api/shares/<id>/files/<n>) to a set rate, the same way in every browser (Firefox over WebDriver BiDi has no
 * network emulation), and can cut every connection at once. WebSocket upgrades (signaling)
 * pass through untouched. With `script`, every HTML page it serves loads that script first
 * (from its own address, so the page's CSP allows it): how a browser whose driver cannot run
 * a script before the page's own (WebKitWebDriver) gets listeners in from the start.
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { freePort } from '../../support/server.ts';

const TICK_MS = 50;
/** A file's ciphertext as recipients download it. */
const FILE_BODY = /^\/api\/shares\/[^/]+\/files\/\d+/;
/** Where an injected page script is served. */
const SCRIPT_PATH = '/__e2e-first.js';

/** A script every HTML page loads before its own. */
export interface PageScript {
  /** JavaScript source (a classic script). */
  source: string;
}

export class SlowProxy {
  readonly url: string;
  /** Bytes per second for file bodies; 0 = no limit. */
  rate = 0;
  /** File bodies (ciphertext GETs) asked for through this proxy so far. */
  fileGets = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.url = `http://localhost:${port}`;
  }

  /** Starts a proxy to the server at `target` (http://localhost:PORT) on a free port. */
  static async start(target: string, script?: PageScript): Promise<SlowProxy> {
    const upstream = new URL(target);
    const port = await freePort();
    const server = createServer();
    const proxy = new SlowProxy(server, port);
    server.on('connection', (socket) => proxy.#track(socket));
    server.on('request', (req, res) => {
      if (script && req.method === 'GET' && req.url === SCRIPT_PATH) {
        res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' });
        res.end(script.source);
        return;
      }
      if (req.method === 'GET' && FILE_BODY.test(req.url ?? '')) proxy.fileGets++;
      // Pages are rewritten, so they must come uncompressed.
      const headers = { ...req.headers };
      if (script) delete headers['accept-encoding'];
      const out = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (answer) => {
          if (script && /^text\/html/.test(answer.headers['content-type'] ?? '')) {
            injectScript(answer, res);
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          const slow = req.method === 'GET' && FILE_BODY.test(req.url ?? '');
          if (slow) proxy.#pace(answer, res);
          else answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const out = connect(Number(upstream.port), upstream.hostname, () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        out.write(`${lines.join('\r\n')}\r\n\r\n`);
        out.write(head);
        out.pipe(socket);
        socket.pipe(out);
      });
      proxy.#track(out);
      out.on('error', () => socket.destroy());
      socket.on('error', () => out.destroy());
    });
    await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
    return proxy;
  }

  /** Destroys every open connection (downloads, signaling) as a dropped network would. */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /** Copies `from` to `to` at no more than `rate` bytes per second (re-read every tick). */
  #pace(from: IncomingMessage, to: NodeJS.WritableStream & { destroy(): void }): void {
    let allowance = 0;
    let pending: Buffer[] = [];
    let ended = false;
    const timer = setInterval(() => {
      allowance = this.rate > 0 ? (this.rate * TICK_MS) / 1000 : Number.POSITIVE_INFINITY;
      flush();
    }, TICK_MS);
    const flush = (): void => {
      while (pending.length > 0 && allowance > 0) {
        const chunk = pending[0] as Buffer;
        const n = Math.min(chunk.length, allowance);
        to.write(chunk.subarray(0, n));
        allowance -= n;
        if (n === chunk.length) pending.shift();
        else pending[0] = chunk.subarray(n);
      }
      if (pending.length === 0) {
        if (ended) {
          clearInterval(timer);
          to.end();
        } else from.resume();
      }
    };
    from.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      from.pause();
      flush();
    });
    from.on('end', () => {
      ended = true;
      flush();
    });
    const stop = (): void => {
      clearInterval(timer);
      pending = [];
    };
    from.on('error', () => {
      stop();
      to.destroy();
    });
    to.on('close', () => {
      stop();
      from.destroy();
    });
  }
}

/** Copies the HTML page `from` to `to` with a first script in its <head>. */
function injectScript(from: IncomingMessage, to: ServerResponse): void {
  const chunks: Buffer[] = [];
  from.on('data', (chunk: Buffer) => chunks.push(chunk));
  from.on('error', () => to.destroy());
  from.on('end', () => {
    const page = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/<head>/i, `<head><script src="${SCRIPT_PATH}"></script>`);
    const headers = { ...from.headers };
    delete headers.etag;
    headers['content-length'] = String(Buffer.byteLength(page));
    to.writeHead(from.statusCode ?? 502, headers);
    to.end(page);
  });
}
