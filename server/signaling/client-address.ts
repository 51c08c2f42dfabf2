/**
 * Who is connecting: the socket's address, or — only when the socket is a configured trusted
 * proxy — the client address that proxy put in X-Forwarded-For. A client can write any
 * X-Forwarded-For it likes, so the header is read only from proxies we were told to trust,
 * and from its right end: entries added by trusted proxies are skipped, and the first one
 * left is the address the outermost trusted proxy saw.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** A matcher for FERRY_TRUSTED_PROXIES: IPs and CIDRs, IPv4 or IPv6. */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`trusted proxy "${entry}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else {
      const prefix = Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
        throw new Error(`trusted proxy "${entry}" has a bad prefix length`);
      }
      list.addSubnet(address, prefix, type);
    }
  }
  return list;
}

/** "::ffff:1.2.3.4" → "1.2.3.4"; anything else as it is. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The client's address for grouping and limits (see the module comment). */
export function clientAddress(req: IncomingMessage, trusted: BlockList): string {
  const socketAddress = normalizeAddress(req.socket.remoteAddress ?? '');
  if (!isTrusted(trusted, socketAddress)) return socketAddress || 'unknown';
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => normalizeAddress(hop.trim()))
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) break; // garbage: stop believing the header here
    if (!isTrusted(trusted, hop)) return hop;
  }
  return socketAddress;
}

/**
 * The key of a client's network: the IPv4 address, or the /64 of an IPv6 address (devices
 * on one home network get different IPv6 addresses from one /64 prefix).
 */
export function networkKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`;
}

/** A new salt for network room ids (one per process, or one shared in Redis: coordination.ts). */
export function newNetworkSalt(): Buffer {
  return randomBytes(16);
}

/**
 * The id of a network's room: a salted hash, so room ids do not show addresses. Nodes that
 * must put one network's devices in one room use the same salt.
 */
export function networkRoomId(key: string, salt: Buffer): string {
  return `network:${createHash('sha256').update(salt).update(key).digest('base64url').slice(0, 22)}`;
}
