/**
 * A cap on open connections per client address (FERRY_MAX_CONNECTIONS_PER_IP), counted from
 * accept to close, WebSockets included. Without it one address could hold every socket the
 * process may open, slowly (issue 9). The connection over the cap gets a 429 RATE_LIMITED
 * answer and is closed before Node parses a byte of it. Connections from a trusted proxy
 * are not counted: they carry many clients, and the proxy is where those are capped.
 *
 * The counts are a `ConnectionCounts`: this process's memory, or Redis with FERRY_REDIS_URL,
 * where one address's connections to every node count together (a dead node's stop counting
 * when its presence expires; while Redis is away each node caps its own). Bytes a client
 * sends while its count is asked for wait in the socket's buffer, and Node's parser reads
 * them once it is attached.
 */
import type { Server } from 'node:http';
import { type BlockList, isIP, type Socket } from 'node:net';
import { httpStatusOf } from '../../shared/errors.ts';
import { type ConnectionCounts, MemoryConnectionCounts } from '../connection-counts.ts';
import type { Logger } from '../log.ts';
import { normalizeAddress } from '../signaling/client-address.ts';
import { BASE_HEADERS } from './respond.ts';

/** Seconds a refused client is told to wait. */
const RETRY_AFTER_S = 10;
/** How long a refused socket stays open for its answer to be read. */
const REFUSED_LINGER_MS = 2000;
/** How often counts missed while Redis was away are written and this node's keys renewed. */
const FLUSH_MS = 5000;

export interface ConnectionCapOptions {
  /** Where connections are counted (default: this process's memory). */
  counts?: ConnectionCounts;
  logger?: Logger;
}

/**
 * Counts `server`'s connections per address and refuses those past `max` (0: no cap). Call it
 * right after the server is made: it takes over the `connection` listeners present then
 * (Node's HTTP parser among them), so a refused socket never reaches the parser or a handler.
 */
export function capConnectionsPerAddress(
  server: Server,
  max: number,
  trusted: BlockList,
  { counts = new MemoryConnectionCounts(), logger }: ConnectionCapOptions = {},
): void {
  if (max <= 0) return;
  const accept = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  const pass = (socket: Socket) => {
    for (const listener of accept) listener.call(server, socket);
  };
  server.on('connection', (socket: Socket) => {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    const family = isIP(address);
    if (family !== 0 && trusted.check(address, family === 4 ? 'ipv4' : 'ipv6')) {
      pass(socket);
      return;
    }
    // Until it is counted the socket has no listener but this one: a client that goes away
    // meanwhile must still be counted out.
    let closed = false;
    socket.on('error', () => undefined);
    socket.once('close', () => {
      closed = true;
    });
    counts.open(address, max).then(
      (counted) => {
        if (!counted) {
          refuse(socket);
          return;
        }
        if (closed) counts.close(address);
        else {
          socket.once('close', () => counts.close(address));
          pass(socket);
        }
      },
      (error: unknown) => {
        logger?.warn({ err: error }, 'connection cap: count failed; connection closed');
        socket.destroy();
      },
    );
  });
  const flush = setInterval(() => {
    counts.flush().catch((error: unknown) => logger?.warn({ err: error }, 'connection cap: counts not written'));
  }, FLUSH_MS);
  flush.unref();
  server.once('close', () => clearInterval(flush));
}

function refuse(socket: Socket): void {
  const body = JSON.stringify({
    error: { code: 'RATE_LIMITED', message: 'Too many open connections from this address.' },
  });
  const headers = {
    ...BASE_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Retry-After': String(RETRY_AFTER_S),
    Connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  // Whatever the client sends is drained unread (unread bytes would make close a reset,
  // which can lose the answer), and the socket goes once the client had time to read it.
  socket.resume();
  socket.end(`HTTP/1.1 ${httpStatusOf('RATE_LIMITED')} Too Many Requests\r\n${head}\r\n${body}`);
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
}
