import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress, networkKey, networkRoomId, newNetworkSalt, trustedProxyList } from './client-address.ts';

function req(remoteAddress: string, forwarded?: string): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  } as unknown as IncomingMessage;
}

describe('clientAddress', () => {
  const trusted = trustedProxyList(['10.0.0.0/8', '::1', ' 192.168.1.1 ']);

  it('ignores X-Forwarded-For from an untrusted socket', () => {
    expect(clientAddress(req('203.0.113.9', '198.51.100.1'), trusted)).toBe('203.0.113.9');
    expect(clientAddress(req('::ffff:203.0.113.9', '198.51.100.1'), trusted)).toBe('203.0.113.9');
  });

  it('takes the right-most untrusted hop from a trusted proxy', () => {
    expect(clientAddress(req('10.1.2.3', '198.51.100.1'), trusted)).toBe('198.51.100.1');
    expect(clientAddress(req('::1', '6.6.6.6, 198.51.100.1, 10.0.0.5'), trusted)).toBe('198.51.100.1');
    expect(clientAddress(req('::ffff:10.1.2.3', '198.51.100.1'), trusted)).toBe('198.51.100.1');
  });

  it('falls back to the socket address when the header is missing or garbage', () => {
    expect(clientAddress(req('10.1.2.3'), trusted)).toBe('10.1.2.3');
    expect(clientAddress(req('10.1.2.3', 'not-an-ip'), trusted)).toBe('10.1.2.3');
    expect(clientAddress(req('10.1.2.3', '10.0.0.9'), trusted)).toBe('10.1.2.3');
  });

  it('refuses malformed proxy entries', () => {
    expect(() => trustedProxyList(['proxy.example'])).toThrow(/not an IP/);
    expect(() => trustedProxyList(['10.0.0.0/33'])).toThrow(/prefix/);
  });
});

describe('networkKey', () => {
  it('groups IPv6 by /64 and keeps IPv4 whole', () => {
    expect(networkKey('198.51.100.7')).toBe('198.51.100.7');
    expect(networkKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(networkKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(networkKey('2001:db8::5')).toBe('2001:db8:0:0::/64');
    expect(networkKey('::1')).toBe('0:0:0:0::/64');
  });

  it('hides the address in the room id, which depends on the salt', () => {
    const salt = newNetworkSalt();
    const id = networkRoomId('198.51.100.7', salt);
    expect(id).toMatch(/^network:[A-Za-z0-9_-]{22}$/);
    expect(id).not.toContain('198');
    expect(networkRoomId('198.51.100.7', Buffer.from(salt))).toBe(id);
    expect(networkRoomId('198.51.100.7', newNetworkSalt())).not.toBe(id);
  });
});
