import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FerryError } from '../../../shared/errors.ts';
import type { ControlMessage } from '../../../shared/p2p/frames.ts';

/** Stands in for RTCDataChannel: `onmessage` is a plain property, called by `deliver`. */
class FakeChannel extends EventTarget {
  binaryType = 'blob';
  readyState = 'open';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  onmessage: ((event: MessageEvent<unknown>) => void) | null = null;

  deliver(data: unknown): void {
    this.onmessage?.(new MessageEvent('message', { data }));
  }
}

/** Stands in for RTCPeerConnection (only what PeerLink reads). */
class FakePc extends EventTarget {
  sctp = { maxMessageSize: 262_144 };
}

/** The simple-peer instances made, with what simple-peer itself would have read from their channel. */
const made = vi.hoisted(
  () =>
    [] as Array<{
      options: Record<string, unknown>;
      _pc: EventTarget;
      _channel: unknown;
      handlers: Map<string, (...args: unknown[]) => void>;
      streamed: unknown[];
      sent: unknown[];
      signalled: unknown[];
      attach(channel: unknown): void;
    }>,
);

vi.mock('simple-peer', () => ({
  default: class FakePeer {
    options: Record<string, unknown>;
    _pc: EventTarget;
    _channel: unknown = null;
    handlers = new Map<string, (...args: unknown[]) => void>();
    streamed: unknown[] = [];
    sent: unknown[] = [];
    signalled: unknown[] = [];
    constructor(options: Record<string, unknown>) {
      this.options = options;
      this._pc = new (globalThis as unknown as { RTCPeerConnection: new () => EventTarget }).RTCPeerConnection();
      // simple-peer's initiator makes its channel in the constructor (_setupData).
      if (options.initiator) {
        const Channel = (globalThis as unknown as { RTCDataChannel: new () => unknown }).RTCDataChannel;
        this.attach(new Channel());
      }
      made.push(this);
    }
    /** What simple-peer's _setupData does: binaryType, and messages into its stream. */
    attach(channel: unknown): void {
      const c = channel as { binaryType: string; onmessage: unknown };
      c.binaryType = 'arraybuffer';
      c.onmessage = (event: MessageEvent<unknown>) => this.streamed.push(event.data);
      this._channel = channel;
    }
    on(event: string, handler: (...args: unknown[]) => void): this {
      this.handlers.set(event, handler);
      return this;
    }
    send(data: unknown): void {
      this.sent.push(data);
    }
    signal(data: unknown): void {
      this.signalled.push(data);
    }
    destroy(): void {}
  },
}));

const { PeerLink, HIGH_WATER_MARK } = await import('./peer-link.ts');

const quiet = { signal() {}, connect() {}, control() {}, binary() {}, close() {} };
const ice = { iceServers: [], iceTransportPolicy: 'all' as const };

/** A link whose events are written down in order. */
async function recordedLink(initiator: boolean) {
  const seen: Array<['control', ControlMessage] | ['binary', Uint8Array<ArrayBuffer>] | ['close', FerryError | null]> =
    [];
  const link = new PeerLink(initiator, ice, {
    ...quiet,
    control: (message) => seen.push(['control', message]),
    binary: (bytes) => seen.push(['binary', bytes]),
    close: (error) => seen.push(['close', error]),
  });
  await link.ready;
  const peer = made.at(-1)!;
  return { link, peer, seen };
}

describe('PeerLink', () => {
  beforeEach(() => {
    vi.stubGlobal('RTCDataChannel', FakeChannel);
    vi.stubGlobal('RTCPeerConnection', FakePc);
  });
  afterEach(() => {
    made.length = 0;
    vi.unstubAllGlobals();
  });

  it('passes the ICE servers and the transport policy to simple-peer’s RTCConfiguration', async () => {
    const iceServers = [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: '1:x', credential: 'c' }];
    const link = new PeerLink(true, { iceServers, iceTransportPolicy: 'relay' }, quiet);
    await link.ready;
    link.destroy();
    expect(made).toHaveLength(1);
    expect(made[0]!.options).toMatchObject({
      initiator: true,
      trickle: true,
      config: { iceServers, iceTransportPolicy: 'relay' },
    });
  });

  it('passes `all` through as well', async () => {
    const link = new PeerLink(false, ice, quiet);
    await link.ready;
    link.destroy();
    expect(made[0]!.options).toMatchObject({ initiator: false, config: { iceServers: [], iceTransportPolicy: 'all' } });
  });

  it('reads text and binary frames from the channel itself, in the channel’s order', async () => {
    const { peer, seen } = await recordedLink(true);
    const channel = peer._channel as FakeChannel;
    const first = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 9]).buffer;
    const second = new ArrayBuffer(16);
    channel.deliver(first);
    channel.deliver(JSON.stringify({ type: 'pair-saved' }));
    channel.deliver(second);
    expect(seen.map(([kind]) => kind)).toEqual(['binary', 'control', 'binary']);
    expect(seen[1]).toEqual(['control', { type: 'pair-saved' }]);
    // The channel's own ArrayBuffer, whole: no Buffer, no copy.
    const [, bytes] = seen[0] as ['binary', Uint8Array<ArrayBuffer>];
    expect(bytes.buffer).toBe(first);
    expect(bytes.byteLength).toBe(first.byteLength);
    expect((seen[2] as ['binary', Uint8Array<ArrayBuffer>])[1].buffer).toBe(second);
    expect(channel.binaryType).toBe('arraybuffer');
    expect(peer.streamed).toEqual([]);
  });

  it('takes the answerer’s channel when the peer connection announces it', async () => {
    const { peer, seen } = await recordedLink(false);
    const channel = new FakeChannel();
    peer.attach(channel);
    peer._pc.dispatchEvent(new Event('datachannel'));
    channel.deliver(JSON.stringify({ type: 'pair-saved' }));
    channel.deliver(new ArrayBuffer(12));
    expect(seen.map(([kind]) => kind)).toEqual(['control', 'binary']);
    expect(peer.streamed).toEqual([]);
  });

  it('closes with INVALID_MESSAGE on a text frame that is not a control message, and hears nothing after', async () => {
    const { peer, seen } = await recordedLink(true);
    const channel = peer._channel as FakeChannel;
    channel.deliver('{"type":"launch"}');
    channel.deliver(JSON.stringify({ type: 'pair-saved' }));
    expect(seen).toHaveLength(1);
    const [kind, error] = seen[0]!;
    expect(kind).toBe('close');
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).code).toBe('INVALID_MESSAGE');
    expect((error as FerryError).message).toMatch(/does not understand/);
  });

  it('closes with INVALID_MESSAGE on a message that is neither text nor an ArrayBuffer', async () => {
    const { peer, seen } = await recordedLink(true);
    (peer._channel as FakeChannel).deliver(new Blob(['x']));
    expect(seen).toHaveLength(1);
    expect((seen[0]![1] as FerryError).code).toBe('INVALID_MESSAGE');
  });

  it('holds a frame while the channel’s queue is above the high mark and sends it once it drains', async () => {
    const { link, peer } = await recordedLink(true);
    const channel = peer._channel as FakeChannel;
    peer.handlers.get('connect')!();
    expect(link.connected).toBe(true);
    expect(link.maxMessageSize).toBe(262_144);
    channel.bufferedAmount = HIGH_WATER_MARK + 1;
    const frame = new Uint8Array(100);
    const sending = link.sendFrame(frame);
    await Promise.resolve();
    expect(peer.sent).toEqual([]);
    channel.bufferedAmount = 0;
    channel.dispatchEvent(new Event('bufferedamountlow'));
    await sending;
    expect(peer.sent).toEqual([frame]);
    await expect(link.sendFrame(new Uint8Array(262_145))).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });

  it('loads simple-peer with the first link and feeds it the signals that came before it, in order', async () => {
    const link = new PeerLink(false, ice, quiet);
    link.signal({ type: 'offer', sdp: 'v=0' });
    link.signal({ candidate: { candidate: 'a' } });
    expect(made).toHaveLength(0);
    await link.ready;
    expect(made[0]!.signalled).toEqual([{ type: 'offer', sdp: 'v=0' }, { candidate: { candidate: 'a' } }]);
    link.destroy();
  });

  it('makes no peer for a link closed before simple-peer loaded', async () => {
    const closed: Array<FerryError | null> = [];
    const link = new PeerLink(true, ice, { ...quiet, close: (error) => closed.push(error) });
    link.signal({ type: 'answer', sdp: 'v=0' });
    link.destroy();
    await link.ready;
    expect(made).toHaveLength(0);
    expect(closed).toEqual([null]);
  });
});
