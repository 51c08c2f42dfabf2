/**
 * One WebRTC connection from the `ferry` command to another device, over werift (WebRTC in
 * pure TypeScript; ARCHITECTURE.md "Direct transfers from the command line" has the figures
 * against @roamhq/wrtc). It speaks what the app's PeerLink (client/lib/p2p/peer-link.ts,
 * simple-peer in the browser) speaks, so either side may be a browser:
 *
 * - signals relayed with kind `signal` in simple-peer's shape: `{type: 'offer'|'answer',
 *   sdp}` and `{type: 'candidate', candidate: {candidate, sdpMLineIndex, sdpMid}}` (trickle
 *   ICE); candidates that arrive before the remote description wait for it, as simple-peer's
 *   do;
 * - one reliable, ordered data channel, made by the initiator (simple-peer names it with 20
 *   random bytes in hex; the answerer takes whatever channel arrives);
 * - text frames are control messages (shared/p2p.ts, parsed where they enter), binary frames
 *   are records; `sendFrame` waits while more than HIGH_WATER_MARK bytes are queued and
 *   resumes below LOW_WATER_MARK (WebRTC §6.2 bufferedAmountLowThreshold), the app's marks.
 *
 * The local SDP advertises a max-message-size of MAX_MESSAGE_SIZE (RFC 8841 §6), so a
 * browser sends frames of up to 256 KiB here, as it does to another browser.
 */
import { randomBytes } from 'node:crypto';
import type { RTCDataChannel, RTCPeerConnection } from 'werift';
import { FerryError } from '../../shared/errors.ts';
import type { PeerChannel } from '../../shared/p2p/channel.ts';
import {
  type ControlMessage,
  encodeControlMessage,
  parseControlMessage,
  unreadableControl,
} from '../../shared/p2p/frames.ts';
import type { IceConfig } from '../../shared/signaling.ts';
import { debug } from './debug.ts';
import { loadWerift, type Werift } from './werift.ts';

/** Resume sending when the channel's queue drains below this (as the app's PeerLink). */
export const LOW_WATER_MARK = 1024 * 1024;
/** Stop sending while more than this is queued. */
export const HIGH_WATER_MARK = 4 * 1024 * 1024;
/** Give up on a connection that has not opened by then. */
export const CONNECT_TIMEOUT_MS = 30_000;
/** What this side takes in one message, advertised in its SDP. */
export const MAX_MESSAGE_SIZE = 256 * 1024;
/** A queue that is not drained within this is checked again (an event werift may not fire). */
const DRAIN_POLL_MS = 50;
/** RFC 8841 §6.1: a peer that says nothing takes 64 KiB. */
const DEFAULT_MAX_MESSAGE_SIZE = 65_536;

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

interface CandidateInit {
  candidate: string;
  sdpMLineIndex?: number | null;
  sdpMid?: string | null;
}

const lost = () => new FerryError('NETWORK_ERROR', 'The connection to the other device was lost.');

export class RtcLink implements PeerChannel {
  readonly initiator: boolean;
  /** Settles once werift is loaded and the peer connection made (or the link closed first). */
  readonly ready: Promise<void>;
  readonly #events: RtcLinkEvents;
  #pc: RTCPeerConnection | null = null;
  #channel: RTCDataChannel | null = null;
  #open = false;
  #closed = false;
  /** Signals that came before the peer connection existed. */
  #early: Record<string, unknown>[] = [];
  /** Candidates that came before the remote description. */
  #candidates: CandidateInit[] = [];
  #described = false;
  #drained: (() => void) | null = null;
  #timeout: ReturnType<typeof setTimeout>;

  constructor(initiator: boolean, ice: Ice, events: RtcLinkEvents) {
    this.initiator = initiator;
    this.#events = events;
    this.#timeout = setTimeout(
      () => this.#fail(new FerryError('NETWORK_ERROR', 'The other device could not be reached directly.')),
      CONNECT_TIMEOUT_MS,
    );
    this.ready = loadWerift().then(
      (werift) => this.#start(werift, ice),
      (error: unknown) =>
        this.#fail(new FerryError('INTERNAL', 'WebRTC (werift) could not be loaded.', { cause: error })),
    );
  }

  async #start(werift: Werift, ice: Ice): Promise<void> {
    if (this.#closed) return;
    debug(`werift loaded (${this.initiator ? 'initiator' : 'answerer'})`);
    const pc = new werift.RTCPeerConnection({
      iceServers: ice.iceServers,
      iceTransportPolicy: ice.iceTransportPolicy,
      maxMessageSize: MAX_MESSAGE_SIZE,
    });
    this.#pc = pc;
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate || this.#closed) return;
      debug(`local candidate ${candidate.candidate}`);
      this.#events.signal({
        type: 'candidate',
        candidate: { candidate: candidate.candidate, sdpMLineIndex: candidate.sdpMLineIndex, sdpMid: candidate.sdpMid },
      });
    };
    pc.iceConnectionStateChange.subscribe((state) => debug(`ice ${state}`));
    pc.connectionStateChange.subscribe((state) => {
      debug(`connection ${state}`);
      if (state === 'failed')
        this.#fail(new FerryError('NETWORK_ERROR', 'No direct route to the other device was found.'));
      else if (state === 'closed' || state === 'disconnected') this.#fail(lost());
    });
    pc.ondatachannel = ({ channel }) => this.#take(channel);
    try {
      if (this.initiator) {
        this.#take(pc.createDataChannel(randomBytes(20).toString('hex')));
        await pc.setLocalDescription(await pc.createOffer());
        this.#sendDescription();
      }
    } catch (error) {
      this.#fail(new FerryError('NETWORK_ERROR', 'The connection could not be set up.', { cause: error }));
      return;
    }
    const early = this.#early;
    this.#early = [];
    for (const data of early) this.signal(data);
  }

  /** Feeds a `signal` relayed from the other side (SDP or ICE candidate). */
  signal(data: Record<string, unknown>): void {
    if (this.#closed) return;
    if (!this.#pc) {
      this.#early.push(data);
      return;
    }
    this.#onSignal(this.#pc, data).catch((error: unknown) =>
      this.#fail(
        new FerryError('NETWORK_ERROR', 'The other device sent a connection message that was not valid.', {
          cause: error,
        }),
      ),
    );
  }

  async #onSignal(pc: RTCPeerConnection, data: Record<string, unknown>): Promise<void> {
    debug(`remote signal ${String(data.type)} ${JSON.stringify(data.candidate ?? '')}`);
    const candidate = data.candidate as CandidateInit | undefined;
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
    channel.bufferedAmountLowThreshold = LOW_WATER_MARK;
    channel.bufferedAmountLow.subscribe(() => this.#wake());
    channel.onMessage.subscribe((data) => this.#onMessage(data));
    channel.stateChanged.subscribe((state) => {
      if (state === 'open') this.#onOpen();
      else if (state === 'closed') this.#fail(lost());
    });
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

  /** The largest message the other side takes (its SDP's max-message-size), at most ours. */
  get maxMessageSize(): number {
    const remote = this.#pc?.sctpTransport?.remoteMaxMessageSize;
    const size = typeof remote === 'number' && remote > 0 ? remote : DEFAULT_MAX_MESSAGE_SIZE;
    return Math.min(size, MAX_MESSAGE_SIZE);
  }

  sendControl(message: ControlMessage): void {
    if (!this.connected || !this.#channel) throw lost();
    this.#channel.send(encodeControlMessage(message));
  }

  /** Sends a binary frame once the queue has room; rejects when the connection is gone. */
  async sendFrame(frame: Uint8Array): Promise<void> {
    const channel = this.#channel;
    if (!channel || !this.connected) throw lost();
    if (frame.length > this.maxMessageSize) {
      throw new FerryError('TOO_LARGE', `A ${frame.length}-byte message is larger than this connection allows.`);
    }
    while (channel.bufferedAmount > HIGH_WATER_MARK) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
        setTimeout(() => this.#wake(), DRAIN_POLL_MS);
      });
      if (this.#closed) throw lost();
    }
    // A copy, as RTCDataChannel.send makes one: werift queues the Buffer it is given (its
    // SCTP chunks are views into it), and callers reuse one frame buffer for the next frame.
    channel.send(Buffer.from(frame));
  }

  /** Whether the nominated candidate pair goes through TURN (werift's stats name the candidate types). */
  async route(): Promise<'direct' | 'relayed' | null> {
    const pc = this.#pc;
    if (!pc) return null;
    const stats = (await pc.getStats()) as unknown as Map<string, Record<string, unknown>>;
    for (const s of stats.values()) {
      if (s.type !== 'candidate-pair' || !s.nominated) continue;
      const types = [s.localCandidateId, s.remoteCandidateId].map((id) =>
        typeof id === 'string' ? stats.get(id)?.candidateType : undefined,
      );
      return types.includes('relay') ? 'relayed' : 'direct';
    }
    return null;
  }

  /** Closes the connection; `close` fires with null. What was queued still leaves first (bounded). */
  destroy(): void {
    this.#fail(null);
  }

  #onMessage(data: string | Buffer): void {
    if (this.#closed) return;
    if (typeof data !== 'string') {
      // A copy that owns its ArrayBuffer: werift's Buffers may be views into a shared pool.
      this.#events.binary(new Uint8Array(data));
      return;
    }
    const parsed = parseControlMessage(data);
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
    debug(`closed: ${error?.message ?? 'on purpose'} ${String((error?.cause as Error | undefined)?.message ?? '')}`);
    this.#closed = true;
    clearTimeout(this.#timeout);
    this.#wake();
    void this.#tearDown(error === null);
    this.#events.close(error);
  }

  /** Closes the peer connection, after the channel's queue empties when closed on purpose (at most 1 s). */
  async #tearDown(flush: boolean): Promise<void> {
    const channel = this.#channel;
    const pc = this.#pc;
    this.#early = [];
    if (flush && channel?.readyState === 'open') {
      const until = Date.now() + 1000;
      while (channel.bufferedAmount > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    }
    // Closing the channel first resets its stream (RFC 8831 §6.7), which the other side
    // hears at once; a closed peer connection alone is noticed only when ICE gives up.
    try {
      if (channel?.readyState === 'open') channel.close();
    } catch {
      // Already going.
    }
    await pc?.close().catch(() => undefined);
  }
}
