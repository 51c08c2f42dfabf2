/**
 * Requests that change something must come from Ferry's own pages, or from no browser at
 * all (curl, the CLI, tests). A browser lets any site send a "simple" cross-site POST
 * (text/plain, no preflight) with the visitor's address: without this check another site
 * could spend a visitor's rate limit and quotas (issue 9). The JSON body rule
 * (http/body.ts, 415) closes the same hole for browsers that send neither header below.
 *
 * - `Sec-Fetch-Site` (Fetch Metadata, sent by every current browser) decides when present:
 *   `same-origin` and `none` (the user's own action) pass; `same-site` and `cross-site` do not.
 * - Else `Origin` (sent on every cross-origin POST, RFC 6454 §7) must name this host: the
 *   Host header, or X-Forwarded-Host when the socket is a trusted proxy.
 * - Neither: not a browser's cross-site request, so it passes.
 */
import type { IncomingMessage } from 'node:http';
import type { BlockList } from 'node:net';
import { isIP } from 'node:net';
import { FerryError } from '../../shared/errors.ts';
import { normalizeAddress } from '../signaling/client-address.ts';

/** Methods that read nothing: never checked. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Throws FORBIDDEN for a state-changing request a browser sent on another site's behalf. */
export function assertSameOrigin(req: IncomingMessage, trusted: BlockList): void {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return;
  const site = header(req, 'sec-fetch-site')?.toLowerCase();
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return;
    throw crossSite();
  }
  const origin = header(req, 'origin');
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw crossSite(); // "null" (sandboxed frames, data: URLs) or garbage
  }
  if (!host || !ownHosts(req, trusted).includes(host.toLowerCase())) throw crossSite();
}

/** The names this request reached the server by. */
function ownHosts(req: IncomingMessage, trusted: BlockList): string[] {
  const hosts = [header(req, 'host')];
  const socket = normalizeAddress(req.socket.remoteAddress ?? '');
  const family = isIP(socket);
  if (family !== 0 && trusted.check(socket, family === 4 ? 'ipv4' : 'ipv6')) {
    hosts.push(header(req, 'x-forwarded-host')?.split(',')[0]?.trim());
  }
  return hosts.filter((h): h is string => !!h).map((h) => h.toLowerCase());
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function crossSite(): FerryError {
  return new FerryError('FORBIDDEN', 'Requests from other sites are not accepted.');
}
