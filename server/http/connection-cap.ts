/**
 * A cap on open connections per client address (FERRY_MAX_CONNECTIONS_PER_IP), counted from
 * accept to close, WebSockets included. Without it one address could hold every socket the
 * process may open, slowly (issue 9). The connection over the cap gets a 429 RATE_LIMITED
 * answer and is closed before Node parses a byte of it. Connections from a trusted proxy
 * are not counted: they carry many clients, and the proxy is where those are capped.
 */
import type { Server } from 'node:http';
import { type BlockList, isIP, type Socket } from 'node:net';
import { httpStatusOf } from '../../shared/errors.ts';
import { normalizeAddress } from '../signaling/client-address.ts';
import { BASE_HEADERS } from './respond.ts';

/** Seconds a refused client is told to wait. */
const RETRY_AFTER_S = 10;
/** How long a refused socket stays open for its answer to be read. */
const REFUSED_LINGER_MS = 2000;

/**
 * Counts `server`'s connections per address and refuses those past `max` (0: no cap). Call it
 * right after the server is made: it takes over the `connection` listeners present then
 * (Node's HTTP parser among them), so a refused socket never reaches the parser or a handler.
 */
export function capConnectionsPerAddress(server: Server, max: number, trusted: BlockList): void {
  if (max <= 0) return;
  const accept = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    const family = isIP(address);
    const counted = !(family !== 0 && trusted.check(address, family === 4 ? 'ipv4' : 'ipv6'));
    if (counted) {
      const count = open.get(address) ?? 0;
      if (count >= max) {
        refuse(socket);
        return;
      }
      open.set(address, count + 1);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left > 0) open.set(address, left);
        else open.delete(address);
      });
    }
    for (const listener of accept) listener.call(server, socket);
  });
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
  socket.on('error', () => undefined);
  // Whatever the client sends is drained unread (unread bytes would make close a reset,
  // which can lose the answer), and the socket goes once the client had time to read it.
  socket.resume();
  socket.end(`HTTP/1.1 ${httpStatusOf('RATE_LIMITED')} Too Many Requests\r\n${head}\r\n${body}`);
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
}
