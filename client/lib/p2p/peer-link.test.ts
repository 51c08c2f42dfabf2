import { afterEach, describe, expect, it, vi } from 'vitest';

/** The options each simple-peer instance was made with. */
const made = vi.hoisted(() => [] as Array<Record<string, unknown>>);

vi.mock('simple-peer', () => ({
  default: class FakePeer {
    constructor(options: Record<string, unknown>) {
      made.push(options);
    }
    on(): this {
      return this;
    }
    destroy(): void {}
  },
}));

const { PeerLink } = await import('./peer-link.ts');

const events = { signal() {}, connect() {}, control() {}, binary() {}, close() {} };

describe('PeerLink', () => {
  afterEach(() => {
    made.length = 0;
  });

  it('passes the ICE servers and the transport policy to simple-peer’s RTCConfiguration', () => {
    const iceServers = [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: '1:x', credential: 'c' }];
    const link = new PeerLink(true, { iceServers, iceTransportPolicy: 'relay' }, events);
    link.destroy();
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({
      initiator: true,
      trickle: true,
      config: { iceServers, iceTransportPolicy: 'relay' },
    });
  });

  it('passes `all` through as well', () => {
    new PeerLink(false, { iceServers: [], iceTransportPolicy: 'all' }, events).destroy();
    expect(made[0]).toMatchObject({ initiator: false, config: { iceServers: [], iceTransportPolicy: 'all' } });
  });
});
