/**
 * One WebRTC connection from the `ferry` command to another device, over @roamhq/wrtc
 * (libwebrtc, the browsers' own WebRTC, built for Node; its binary is inside its npm
 * package, so nothing is downloaded at install time; ARCHITECTURE.md "Direct transfers from
 * the command line" has the figures against werift). It speaks what the app's PeerLink
 * (client/lib/p2p/peer-link.ts, simple-peer in the browser) speaks, so either side may be a
 * browser:
 *
 * - signals relayed with kind `signal` in simple-peer's shape: `{type: 'offer'|'answer',
 *   sdp}` and `{type: 'candidate', candidate: {candidate, sdpMLineIndex, sdpMid}}` (trickle
 *   ICE); candidates that arrive before the remote description wait for it, as simple-peer's
 *   do;
 * - one reliable, ordered data channel, made by the initiator (simple-peer names it with 20
 *   random bytes in hex; the answerer takes whatever channel arrives);
 * - text frames are control messages (shared/p2p.ts, parsed where they enter), binary frames
 *   are records; `sendFrame` waits while more than HIGH_WATER_MARK bytes are queued and
 *   resumes below LOW_WATER_MARK, the app's marks. @roamhq/wrtc 0.10.0 never fires
 *   `bufferedamountlow` (WebRTC §6.2), so the queue is polled every DRAIN_POLL_MS.
 * - the ICE servers and iceTransportPolicy are the Ferry server's (its `welcome`), as the
 *   app's: with `relay` only TURN candidates are gathered. With no ICE server configured
 *   libwebrtc asks no one (no STUN default), as a browser.
 *
 * libwebrtc advertises a max-message-size of 262144 (RFC 8841 §6) = MAX_MESSAGE_SIZE, as
 * Chromium does, so a browser sends frames of up to 256 KiB here.
 *
 * An open RTCPeerConnection keeps the process alive (libwebrtc's threads): every path ends
 * in `#fail`, which closes it.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { FerryError } from '../../shared/errors.ts';
import type { PeerChannel } from '../../shared/p2p/channel.ts';
import {
  type ControlMessage,
  encodeControlMessage,
  parseControlMessage,
  unreadableControl,
} from '../../shared/p2p/frames.ts';
import { type Route, routeFromStats } from '../../shared/p2p/route.ts';
import type { IceConfig } from '../../shared/signaling.ts';
import { debug } from './debug.ts';

/** Resume sending when the channel's queue drains below this (as the app's PeerLink). */
export const LOW_WATER_MARK = 1024 * 1024;
/** Stop sending while more than this is queued. */
export const HIGH_WATER_MARK = 4 * 1024 * 1024;
/** Give up on a connection that has not opened by then. */
export const CONNECT_TIMEOUT_MS = 30_000;
/** What this side takes in one message (libwebrtc's SDP says so). */
export const MAX_MESSAGE_SIZE = 256 * 1024;
/** How often a full queue is looked at again (no `bufferedamountlow` event, above). */
const DRAIN_POLL_MS = 5;
/** A peer connection closed on purpose waits at most this long past its queue's last progress. */
const CLOSE_FLUSH_MS = 1000;
/** RFC 8841 §6.1: a peer that says nothing takes 64 KiB. */
const DEFAULT_MAX_MESSAGE_SIZE = 65_536;

export type WebRtc = Pick<typeof import('@roamhq/wrtc'), 'RTCPeerConnection'>;

let loaded: WebRtc | FerryError | null = null;

/**
 * @roamhq/wrtc, loaded once per process when the first direct connection starts (its
 * native module holds threads: a command that never connects directly never loads it).
 * Throws ENGINE_UNAVAILABLE when this platform has no binary (its optional dependency
 * `@roamhq/wrtc-<os>-<arch>` is missing or does not load).
 */
export function loadWebRtc(): WebRtc {
  if (!loaded) {
    try {
      loaded = createRequire(import.meta.url)('@roamhq/wrtc') as WebRtc;
    } catch (error) {
      loaded = new FerryError(
        'ENGINE_UNAVAILABLE',
        `WebRTC (@roamhq/wrtc) does not load on ${process.platform}-${process.arch}, so no direct connection can be made.`,
        { cause: error },
      );
    }
  }
  if (loaded instanceof FerryError) throw loaded;
  return loaded;
}

export interface RtcLinkEvents {
  /** Pass to the signaling relay, kind `signal`. */
  signal: (data: Record<string, unknown>) => void;
  connect: () => void;
  control: (message: ControlMessage) => void;
  binary: (bytes: Uint8Array<ArrayBuffer>) => void;
  /** The connection is gone; `error` says why unless it was closed on purpose. */
  close: (error: FerryError | null) => void;
}

type Ice = Pick<IceConfig, 'iceServers' | 'iceTransportPolicy'>;

const lost = () => new FerryError('NETWORK_ERROR', 'The connection to the other device was lost.');

export class RtcLink implements PeerChannel {
  readonly initiator: boolean;
  readonly #events: RtcLinkEvents;
  #pc: RTCPeerConnection | null = null;
  #channel: RTCDataChannel | null = null;
  #open = false;
  #closed = false;
  /** Candidates that came before the remote description. */
  #candidates: RTCIceCandidateInit[] = [];
  #described = false;
  /** Signals are applied one after another, in the order they came. */
  #signals: Promise<void> = Promise.resolve();
  #timeout: ReturnType<typeof setTimeout>;

  constructor(initiator: boolean, ice: Ice, events: RtcLinkEvents) {
    this.initiator = initiator;
    this.#events = events;
    this.#timeout = setTimeout(
      () => this.#fail(new FerryError('NETWORK_ERROR', 'The other device could not be reached directly.')),
      CONNECT_TIMEOUT_MS,
    );
    // Events go out from the next tick, as a browser's would: never from inside the constructor.
    queueMicrotask(() => this.#start(ice));
  }

  #start(ice: Ice): void {
    if (this.#closed) return;
    let webrtc: WebRtc;
    try {
      webrtc = loadWebRtc();
    } catch (error) {
      this.#fail(error instanceof FerryError ? error : new FerryError('INTERNAL', String(error), { cause: error }));
      return;
    }
    const pc = new webrtc.RTCPeerConnection({ iceServers: ice.iceServers, iceTransportPolicy: ice.iceTransportPolicy });
    this.#pc = pc;
    debug(`peer connection made (${this.initiator ? 'initiator' : 'answerer'}, ice ${ice.iceTransportPolicy})`);
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate?.candidate || this.#closed) return;
      debug(`local candidate ${candidate.candidate}`);
      this.#events.signal({
        type: 'candidate',
        candidate: { candidate: candidate.candidate, sdpMLineIndex: candidate.sdpMLineIndex, sdpMid: candidate.sdpMid },
      });
    };
    pc.oniceconnectionstatechange = () => debug(`ice ${pc.iceConnectionState}`);
    pc.onconnectionstatechange = () => {
      const state = pc.connectionState;
      debug(`connection ${state}`);
      if (state === 'failed')
        this.#fail(new FerryError('NETWORK_ERROR', 'No direct route to the other device was found.'));
      else if (state === 'closed' || state === 'disconnected') this.#fail(lost());
    };
    pc.ondatachannel = ({ channel }) => this.#take(channel);
    if (this.initiator) {
      this.#take(pc.createDataChannel(randomBytes(20).toString('hex')));
      this.#queue(async () => {
        await pc.setLocalDescription(await pc.createOffer());
        this.#sendDescription();
      }, 'The connection could not be set up.');
    }
  }

  /** Feeds a `signal` relayed from the other side (SDP or ICE candidate). */
  signal(data: Record<string, unknown>): void {
    if (this.#closed) return;
    // Before the peer connection exists (the microtask above), #queue waits for it.
    this.#queue(() => this.#onSignal(data), 'The other device sent a connection message that was not valid.');
  }

  /** Runs `step` after the steps before it; a step that throws closes the link with `message`. */
  #queue(step: () => Promise<void>, message: string): void {
    this.#signals = this.#signals
      .then(() => (this.#closed ? undefined : step()))
      .catch((error: unknown) => this.#fail(new FerryError('NETWORK_ERROR', message, { cause: error })));
  }

  async #onSignal(data: Record<string, unknown>): Promise<void> {
    const pc = this.#pc;
    if (!pc) return;
    debug(`remote signal ${String(data.type)} ${JSON.stringify(data.candidate ?? '')}`);
    const candidate = data.candidate as RTCIceCandidateInit | undefined;
    if (candidate && typeof candidate.candidate === 'string') {
      if (this.#described) await pc.addIceCandidate(candidate);
      else this.#candidates.push(candidate);
      return;
    }
    if ((data.type === 'offer' || data.type === 'answer') && typeof data.sdp === 'string') {
      if ((data.type === 'offer') === this.initiator) return; // glare: not ours to answer
      await pc.setRemoteDescription({ type: data.type, sdp: data.sdp });
      this.#described = true;
      for (const waiting of this.#candidates.splice(0)) await pc.addIceCandidate(waiting);
      if (data.type === 'offer') {
        await pc.setLocalDescription(await pc.createAnswer());
        this.#sendDescription();
      }
    }
    // simple-peer's `renegotiate` / `transceiverRequest` are for media: never sent by Ferry.
  }

  #sendDescription(): void {
    const local = this.#pc?.localDescription;
    if (!local || this.#closed) return;
    debug(`local description ${local.type}`);
    this.#events.signal({ type: local.type, sdp: local.sdp });
  }

  #take(channel: RTCDataChannel): void {
    if (this.#channel) return;
    this.#channel = channel;
    channel.binaryType = 'arraybuffer';
    channel.onmessage = ({ data }: MessageEvent<string | ArrayBuffer>) => this.#onMessage(data);
    channel.onopen = () => this.#onOpen();
    channel.onclose = () => this.#fail(lost());
    if (channel.readyState === 'open') this.#onOpen();
  }

  #onOpen(): void {
    if (this.#open || this.#closed) return;
    debug('data channel open');
    this.#open = true;
    clearTimeout(this.#timeout);
    this.#events.connect();
  }

  get connected(): boolean {
    return this.#open && !this.#closed;
  }

  /** The local and remote SDP, for the fingerprint check (shared auth); null before connecting. */
  get descriptions(): { local: string; remote: string } | null {
    const local = this.#pc?.localDescription?.sdp;
    const remote = this.#pc?.remoteDescription?.sdp;
    return local && remote ? { local, remote } : null;
  }

  /** The largest message the other side takes (RTCSctpTransport.maxMessageSize), at most ours. */
  get maxMessageSize(): number {
    const remote = this.#pc?.sctp?.maxMessageSize;
    const size = typeof remote === 'number' && remote > 0 ? remote : DEFAULT_MAX_MESSAGE_SIZE;
    return Math.min(size, MAX_MESSAGE_SIZE);
  }

  /** Bytes handed to the channel that have not left yet (RTCDataChannel.bufferedAmount). */
  get bufferedAmount(): number {
    return this.#channel?.bufferedAmount ?? 0;
  }

  sendControl(message: ControlMessage): void {
    if (!this.connected || !this.#channel) throw lost();
    this.#send(this.#channel, encodeControlMessage(message));
  }

  /**
   * Sends a binary frame once the queue has room; rejects when the connection is gone.
   * libwebrtc copies the bytes before `send` returns, so the caller may reuse `frame`.
   */
  async sendFrame(frame: Uint8Array<ArrayBuffer>): Promise<void> {
    const channel = this.#channel;
    if (!channel || !this.connected) throw lost();
    if (frame.length > this.maxMessageSize) {
      throw new FerryError('TOO_LARGE', `A ${frame.length}-byte message is larger than this connection allows.`);
    }
    if (channel.bufferedAmount > HIGH_WATER_MARK) {
      while (channel.bufferedAmount > LOW_WATER_MARK) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
        if (this.#closed) throw lost();
      }
    }
    this.#send(channel, frame);
  }

  /**
   * When the other side drops its peer connection, libwebrtc marks this channel closed (its
   * `send` throws InvalidStateError) before `onclose` or the connection state say so: that is
   * the loss itself. It is reported (`close`) before the send throws NETWORK_ERROR, so a
   * sender takes it as a drop (reconnect, relay), not as a failure of its own (INTERNAL).
   */
  #send(channel: RTCDataChannel, data: string | Uint8Array<ArrayBuffer>): void {
    try {
      if (typeof data === 'string') channel.send(data);
      else channel.send(data);
    } catch (cause) {
      if (channel.readyState === 'open') throw cause;
      const error = new FerryError('NETWORK_ERROR', lost().message, { cause });
      this.#fail(error);
      throw error;
    }
  }

  /** Whether the selected candidate pair goes through a TURN server, as the app's PeerLink tells it. */
  async route(): Promise<Route | null> {
    const pc = this.#pc;
    return pc && !this.#closed ? routeFromStats(await pc.getStats()) : null;
  }

  /** Closes the connection; `close` fires with null. What was queued still leaves first (bounded). */
  destroy(): void {
    this.#fail(null);
  }

  #onMessage(data: string | ArrayBuffer): void {
    if (this.#closed) return;
    if (typeof data !== 'string') {
      // Each message arrives in an ArrayBuffer of its own.
      this.#events.binary(new Uint8Array(data));
      return;
    }
    const parsed = parseControlMessage(data);
    if (parsed.ok) this.#events.control(parsed.message);
    else this.#fail(unreadableControl(parsed));
  }

  #fail(error: FerryError | null): void {
    if (this.#closed) return;
    debug(`closed: ${error?.message ?? 'on purpose'} ${String((error?.cause as Error | undefined)?.message ?? '')}`);
    this.#closed = true;
    clearTimeout(this.#timeout);
    void this.#tearDown(error === null);
    this.#events.close(error);
  }

  /**
   * Closes the channel, then the peer connection. Closed on purpose, it first lets what was
   * queued leave, waiting at most CLOSE_FLUSH_MS past the queue's last progress: until
   * `bufferedAmount` is 0, then until the other side closes (its stream reset closes this channel). libwebrtc's `close()` drops
   * what its SCTP association has not sent yet although `bufferedAmount` already says 0 (a
   * `cancel` sent just before it, measured: 1 of 65 messages arrived), so the side that
   * closes first lingers; the other side reads everything, then closes, which ends the wait.
   * Closing the channel is what the other side hears at once; a closed peer connection
   * alone is noticed only when ICE gives up.
   */
  async #tearDown(flush: boolean): Promise<void> {
    const channel = this.#channel;
    const pc = this.#pc;
    this.#candidates = [];
    if (channel) {
      channel.onmessage = null;
      if (flush && channel.readyState === 'open') {
        let until = Date.now() + CLOSE_FLUSH_MS;
        const closed = new Promise<void>((resolve) => {
          channel.onclose = () => resolve();
        });
        // A queue that is still leaving keeps the wait going (4 MiB on a slow or loaded link
        // takes seconds); a queue that stopped moving gives up CLOSE_FLUSH_MS later.
        let left = channel.bufferedAmount;
        while (channel.bufferedAmount > 0 && channel.readyState === 'open' && Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
          if (channel.bufferedAmount < left) {
            left = channel.bufferedAmount;
            until = Date.now() + CLOSE_FLUSH_MS;
          }
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const gaveUp = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, until - Date.now()));
        });
        if (channel.readyState === 'open') await Promise.race([closed, gaveUp]);
        clearTimeout(timer);
      }
      channel.onclose = null;
      if (channel.readyState === 'open' || channel.readyState === 'connecting') channel.close();
    }
    if (pc) {
      pc.onicecandidate = null;
      pc.onconnectionstatechange = null;
      pc.close();
    }
  }
}
