import { describe, expect, it } from 'vitest';
import { configFromProcess, iceTransportPolicy } from '../config.ts';
import { iceConfig } from './ice.ts';

describe('FERRY_ICE_TRANSPORT_POLICY', () => {
  it('is `all` by default and when empty', () => {
    expect(configFromProcess([], {}).ice.transportPolicy).toBe('all');
    expect(configFromProcess([], { FERRY_ICE_TRANSPORT_POLICY: '' }).ice.transportPolicy).toBe('all');
  });

  it('reads `all` and `relay`, ignoring case and spaces', () => {
    expect(configFromProcess([], { FERRY_ICE_TRANSPORT_POLICY: 'relay' }).ice.transportPolicy).toBe('relay');
    expect(configFromProcess([], { FERRY_ICE_TRANSPORT_POLICY: ' Relay ' }).ice.transportPolicy).toBe('relay');
    expect(configFromProcess([], { FERRY_ICE_TRANSPORT_POLICY: 'ALL' }).ice.transportPolicy).toBe('all');
  });

  it('refuses anything else at start-up', () => {
    expect(() => iceTransportPolicy('turn')).toThrow(/FERRY_ICE_TRANSPORT_POLICY must be "all" or "relay"/);
    expect(() => configFromProcess([], { FERRY_ICE_TRANSPORT_POLICY: 'none' })).toThrow(/got "none"/);
  });
});

describe('iceConfig', () => {
  const base = configFromProcess([], {}).ice;

  it('carries the policy with and without TURN', () => {
    expect(iceConfig(base, 0, 'id')).toEqual({ iceServers: [], iceTransportPolicy: 'all', expiresAt: null });
    const relay = configFromProcess([], {
      FERRY_TURN_URLS: 'turn:127.0.0.1:3478?transport=udp',
      FERRY_TURN_SECRET: 'secret',
      FERRY_ICE_TRANSPORT_POLICY: 'relay',
    }).ice;
    const ice = iceConfig(relay, 1_000_000, 'id');
    expect(ice.iceTransportPolicy).toBe('relay');
    expect(ice.iceServers).toEqual([
      { urls: ['turn:127.0.0.1:3478?transport=udp'], username: `${1000 + 3600}:id`, credential: expect.any(String) },
    ]);
  });
});
