/**
 * One WebRTC connection to another browser, through simple-peer: trickle ICE over the
 * signaling relay (kind `signal`), one reliable ordered data channel, and the flow control
 * simple-peer's `send()` lacks (it hands every message straight to RTCDataChannel.send,
 * which fails once about 16 MiB are queued). `sendFrame` waits while more than
 * HIGH_WATER_MARK bytes are buffered and resumes on `bufferedamountlow`, fired when the
 * queue drains below LOW_WATER_MARK (WebRTC §6.2 bufferedAmountLowThreshold).
 *
 * Messages are read from the RTCDataChannel itself (its `message` event, binaryType
 * 'arraybuffer'), not through simple-peer's Node stream (`data`), which wraps each
 * ArrayBuffer in a Buffer and pushes it through readable-stream: the link takes the
 * channel's `onmessage` as soon as the channel exists (the initiator's at once, the
 * answerer's at the `datachannel` event), so no message ever reaches the stream and text
 * and binary frames keep the channel's order. Sending already goes straight to
 * RTCDataChannel.send (simple-peer's `send` only checks that it is not destroyed).
 */
import type SimplePeer from 'simple-peer';
import { FerryError } from '../../../shared/errors.ts';
import {
  type ControlMessage,
  encodeControlMessage,
  type ParsedControl,
  parseControlMessage,
  unreadableControl,
} from '../../../shared/p2p/frames.ts';
import { routeFromStats } from '../../../shared/p2p/route.ts';
import type { Route } from './route.ts';

/** Resume sending when the channel's queue drains below this. */
export const LOW_WATER_MARK = 1024 * 1024;
/** Stop sending while more than this is queued (far under the ~16 MiB where send() throws). */
export const HIGH_WATER_MARK = 4 * 1024 * 1024;
/** Give up on a connection that has not opened by then. */
export const CONNECT_TIMEOUT_MS = 30_000;
/** How long a closing link waits for its last messages to leave before tearing down. */
export const CLOSE_FLUSH_MS = 1_000;
/** What RTCSctpTransport.maxMessageSize means when a browser does not say (RFC 8841 §6.1). */
const DEFAULT_MAX_MESSAGE_SIZE = 65_536;

export type { Route } from './route.ts';

type SimplePeerClass = typeof SimplePeer;
let simplePeer: Promise<SimplePeerClass> | undefined;

/**
 * simple-peer and the Node stream shims it pulls in (readable-stream, buffer, events: about
 * 110 KB of the bundle) load with the first connection, not with the start screen. The
 * process shim must run before simple-peer's modules evaluate.
 */
function loadSimplePeer(): Promise<SimplePeerClass> {
  simplePeer ??= import('./process-shim.ts')
    .then(() => import('simple-peer'))
    .then((module) => module.default)
    .catch((error: unknown) => {
      simplePeer = undefined;
      throw error;
    });
  return simplePeer;
}

/** From the signaling server's `welcome` (shared/signaling.ts IceConfig). */
export interface IceSettings {
  iceServers: RTCIceServer[];
  /** `relay`: TURN candidates only (RTCConfiguration.iceTransportPolicy). */
  iceTransportPolicy: RTCIceTransportPolicy;
}

export interface PeerLinkEvents {
  /** Pass to the signaling relay, kind `signal`. */
  signal: (data: Record<string, unknown>) => void;
  connect: () => void;
  control: (message: ControlMessage) => void;
  binary: (bytes: Uint8Array<ArrayBuffer>) => void;
  /** The connection is gone; `error` says why unless it was closed on purpose. */
  close: (error: FerryError | null) => void;
}

/** The parts of simple-peer's instance it does not declare, checked before use. */
interface Internals {
  _pc?: unknown;
  _channel?: unknown;
}

export class PeerLink {
  readonly initiator: boolean;
  /** Settles once simple-peer is loaded and the peer made (or the link closed first). */
  readonly ready: Promise<void>;
  #peer: SimplePeer.Instance | null = null;
  /** Signals that arrived before the peer existed, fed to it in order once it does. */
  #early: Record<string, unknown>[] = [];
  readonly #events: PeerLinkEvents;
  #channel: RTCDataChannel | null = null;
  /** The channel whose messages this link reads (#takeMessages). */
  #reading: RTCDataChannel | null = null;
  #drained: (() => void) | null = null;
  #closed = false;
  #timeout: ReturnType<typeof setTimeout>;

  constructor(initiator: boolean, ice: IceSettings, events: PeerLinkEvents) {
    this.initiator = initiator;
    this.#events = events;
    this.#timeout = setTimeout(
      () => this.#fail(new FerryError('NETWORK_ERROR', 'The other device could not be reached directly.')),
      CONNECT_TIMEOUT_MS,
    );
    this.ready = loadSimplePeer().then(
      (Peer) => this.#start(Peer, ice),
      (error: unknown) =>
        this.#fail(new FerryError('NETWORK_ERROR', 'Ferry could not load its connection code.', { cause: error })),
    );
  }

  #start(Peer: SimplePeerClass, ice: IceSettings): void {
    if (this.#closed) return;
    const config: RTCConfiguration = { iceServers: ice.iceServers, iceTransportPolicy: ice.iceTransportPolicy };
    let peer: SimplePeer.Instance;
    try {
      // objectMode: simple-peer's stream is never read (messages come from the channel, below).
      peer = new Peer({ initiator: this.initiator, trickle: true, config, objectMode: true });
    } catch (error) {
      this.#fail(new FerryError('NETWORK_ERROR', describe(error as Error & { code?: string }), { cause: error }));
      return;
    }
    this.#peer = peer;
    peer.on('signal', (data) => this.#events.signal(data as unknown as Record<string, unknown>));
    peer.on('connect', () => this.#onConnect());
    this.#takeMessages();
    this.#pc()?.addEventListener('datachannel', () => this.#takeMessages());
    peer.on('error', (error: Error & { code?: string }) =>
      this.#fail(new FerryError('NETWORK_ERROR', describe(error), { cause: error })),
    );
    peer.on('close', () => this.#fail(null));
    const early = this.#early;
    this.#early = [];
    for (const data of early) this.signal(data);
  }

  /** Feeds a `signal` relayed from the other side (SDP or ICE candidate). */
  signal(data: Record<string, unknown>): void {
    if (this.#closed) return;
    if (!this.#peer) {
      this.#early.push(data);
      return;
    }
    try {
      this.#peer.signal(data as unknown as SimplePeer.SignalData);
    } catch (error) {
      this.#fail(
        new FerryError('NETWORK_ERROR', 'The other device sent a connection message that was not valid.', {
          cause: error,
        }),
      );
    }
  }

  get connected(): boolean {
    return this.#channel !== null && !this.#closed;
  }

  /** The local and remote SDP, for the fingerprint check (shared/p2p/auth.ts); null before connecting. */
  get descriptions(): { local: string; remote: string } | null {
    const pc = this.#pc();
    const local = pc?.localDescription?.sdp;
    const remote = pc?.remoteDescription?.sdp;
    return local && remote ? { local, remote } : null;
  }

  /** The largest message the channel takes (RTCSctpTransport.maxMessageSize). */
  get maxMessageSize(): number {
    const size = this.#pc()?.sctp?.maxMessageSize;
    return typeof size === 'number' && size > 0 ? size : DEFAULT_MAX_MESSAGE_SIZE;
  }

  sendControl(message: ControlMessage): void {
    if (!this.connected || !this.#peer)
      throw new FerryError('NETWORK_ERROR', 'The connection to the other device was lost.');
    this.#peer.send(encodeControlMessage(message));
  }

  /** Sends a binary frame once the queue has room; rejects when the connection is gone. */
  async sendFrame(frame: Uint8Array<ArrayBuffer>): Promise<void> {
    const channel = this.#channel;
    const peer = this.#peer;
    if (!channel || !peer || this.#closed)
      throw new FerryError('NETWORK_ERROR', 'The connection to the other device was lost.');
    if (frame.length > this.maxMessageSize) {
      throw new FerryError('TOO_LARGE', `A ${frame.length}-byte message is larger than this connection allows.`);
    }
    while (channel.bufferedAmount > HIGH_WATER_MARK) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
      if (this.#closed) throw new FerryError('NETWORK_ERROR', 'The connection to the other device was lost.');
    }
    peer.send(frame);
  }

  /**
   * Whether the selected candidate pair goes through a TURN server ("relayed") or not,
   * from getStats (WebRTC Stats §7: the transport's selectedCandidatePairId, then the
   * local and remote candidates' candidateType).
   */
  async route(): Promise<Route | null> {
    const pc = this.#pc();
    return pc ? routeFromStats(await pc.getStats()) : null;
  }

  /**
   * Closes the connection; `close` fires with null at once. What was already handed to
   * the channel (a MAC sent just before a refusal, say) still leaves: the peer connection
   * is torn down once the channel's queue is empty, or after CLOSE_FLUSH_MS.
   */
  destroy(): void {
    this.#fail(null);
  }

  #pc(): RTCPeerConnection | null {
    const pc = (this.#peer as unknown as Internals | null)?._pc;
    return pc instanceof RTCPeerConnection ? pc : null;
  }

  #onConnect(): void {
    if (this.#closed) return;
    clearTimeout(this.#timeout);
    const channel = this.#takeMessages();
    if (!channel) {
      this.#fail(new FerryError('INTERNAL', 'The data channel is not available.'));
      return;
    }
    this.#channel = channel;
    channel.bufferedAmountLowThreshold = LOW_WATER_MARK;
    channel.addEventListener('bufferedamountlow', () => this.#wake());
    this.#events.connect();
  }

  /**
   * Makes this link the reader of simple-peer's data channel, once it exists: its
   * `onmessage` replaces simple-peer's (which would feed the stream). Answers the channel.
   */
  #takeMessages(): RTCDataChannel | null {
    const channel = (this.#peer as unknown as Internals | null)?._channel;
    if (!(channel instanceof RTCDataChannel)) return null;
    if (this.#reading !== channel) {
      this.#reading = channel;
      channel.binaryType = 'arraybuffer';
      channel.onmessage = (event: MessageEvent<unknown>) => this.#onMessage(event.data);
    }
    return channel;
  }

  #onMessage(data: unknown): void {
    if (this.#closed) return;
    if (data instanceof ArrayBuffer) {
      this.#events.binary(new Uint8Array(data));
      return;
    }
    const parsed: ParsedControl =
      typeof data === 'string' ? parseControlMessage(data) : { ok: false, error: 'neither text nor binary' };
    if (parsed.ok) this.#events.control(parsed.message);
    else this.#fail(unreadableControl(parsed));
  }

  #wake(): void {
    const drained = this.#drained;
    this.#drained = null;
    drained?.();
  }

  #fail(error: FerryError | null): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timeout);
    this.#wake();
    this.#tearDown(error === null ? this.#channel : null);
    this.#events.close(error);
  }

  /** Destroys the peer at once, or once `flushing`'s queue is empty (at most CLOSE_FLUSH_MS). */
  #tearDown(flushing: RTCDataChannel | null): void {
    const peer = this.#peer;
    this.#early = [];
    if (!peer) return;
    if (flushing?.readyState !== 'open' || flushing.bufferedAmount === 0) {
      peer.destroy();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      flushing.removeEventListener('bufferedamountlow', drained);
      peer.destroy();
    };
    const drained = () => {
      if (flushing.bufferedAmount === 0) done();
    };
    const timer = setTimeout(done, CLOSE_FLUSH_MS);
    flushing.bufferedAmountLowThreshold = 0;
    flushing.addEventListener('bufferedamountlow', drained);
  }
}

/** Whether a link closed because ICE found no route (simple-peer's code in the error's cause). */
export function isIceFailure(error: unknown): boolean {
  const code = error instanceof FerryError ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
  return code === 'ERR_ICE_CONNECTION_FAILURE' || code === 'ERR_CONNECTION_FAILURE';
}

/** A sentence for simple-peer's error codes (ERR_ICE_CONNECTION_FAILURE, ERR_DATA_CHANNEL, …). */
function describe(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'ERR_WEBRTC_SUPPORT':
      return 'This browser cannot connect to other devices directly.';
    case 'ERR_ICE_CONNECTION_FAILURE':
    case 'ERR_CONNECTION_FAILURE':
      return 'No direct route to the other device was found.';
    case 'ERR_ICE_CONNECTION_CLOSED':
    case 'ERR_DATA_CHANNEL':
      return 'The connection to the other device was lost.';
    default:
      return 'The connection to the other device failed.';
  }
}
