/**
 * A data channel between a share's sender (its open tab) and one recipient of the link,
 * who met in the signaling room `share:<id>`. The server let the sender in with the owner
 * token and the recipient with the reader token, but it relays the SDP (kind
 * `share-signal`), so it could sit in the middle: both ends therefore run MAC mode
 * (connection.svelte.ts, auth.ts) keyed from the link secret, which the server never sees.
 * Nothing but `auth` is read, and no record frame accepted, before the other side's MAC
 * verified; a MAC that fails closes the channel.
 */
import { FerryError } from '../../../shared/errors.ts';
import { type ControlMessage, decodeFrame, frameRefusal, type RecordFrame } from '../../../shared/p2p/frames.ts';
import { Connection } from './connection.svelte.ts';
import { PeerLink } from './peer-link.ts';
import type { SignalingClient } from './signaling.svelte.ts';

export interface ShareChannelEvents {
  /** A control message, only once the other side proved it holds the link secret. */
  control: (message: ControlMessage) => void;
  /** A record frame, only once the other side proved it holds the link secret. */
  frame: (frame: RecordFrame) => void;
  /** The channel is gone (or was refused); fired once. */
  close: (error: FerryError) => void;
}

export class ShareChannel {
  readonly peerId: string;
  readonly #connection: Connection;
  readonly #events: ShareChannelEvents;
  #verified = false;
  #closed = false;

  /** `initiator`: the recipient starts the connection; the sender answers. */
  constructor(
    signaling: SignalingClient,
    peerId: string,
    initiator: boolean,
    secret: Uint8Array<ArrayBuffer>,
    events: ShareChannelEvents,
  ) {
    this.peerId = peerId;
    this.#events = events;
    const link = new PeerLink(initiator, signaling.ice, {
      signal: (data) => void signaling.relay(peerId, 'share-signal', data),
      connect: () => {
        this.#connection.onConnect().catch((error: unknown) => this.close(asFerryError(error)));
      },
      control: (message) => this.#onControl(message),
      binary: (bytes) => {
        if (!this.#verified) {
          this.close(new FerryError('INVALID_MESSAGE', 'The other side sent records before it was verified.'));
          return;
        }
        const frame = decodeFrame(bytes);
        if (!frame.ok) {
          this.close(frameRefusal(frame));
          return;
        }
        for (const [i, record] of frame.records.entries()) {
          if (this.#closed) return;
          this.#events.frame({ file: frame.file, record: frame.first + i, bytes: record });
        }
      },
      close: (error) => this.close(error ?? new FerryError('NETWORK_ERROR', 'The connection was closed.')),
    });
    this.#connection = new Connection(link, { secret: Promise.resolve(secret), compare: false, pairing: null });
    this.#connection.verified.then(
      () => {
        this.#verified = true;
      },
      () => {},
    );
  }

  /** Resolves once the other side's MAC verified; rejects when it failed or the channel closed. */
  get verified(): Promise<void> {
    return this.#connection.verified;
  }
  get open(): boolean {
    return this.#verified && !this.#closed;
  }

  /** A `share-signal` relayed from the other side. */
  signal(data: Record<string, unknown>): void {
    this.#connection.link.signal(data);
  }

  send(message: ControlMessage): void {
    this.#connection.link.sendControl(message);
  }

  /** Sends a binary frame with the link's flow control; rejects when the channel is gone. */
  sendFrame(frame: Uint8Array<ArrayBuffer>): Promise<void> {
    return this.#connection.link.sendFrame(frame);
  }

  close(error: FerryError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connection.fail(error);
    this.#connection.link.destroy();
    this.#events.close(error);
  }

  #onControl(message: ControlMessage): void {
    if (message.type === 'auth') {
      this.#connection.onAuth(message.mac).catch((error: unknown) => this.close(asFerryError(error)));
      return;
    }
    // Promise callbacks run in the order they were added, so messages keep their order.
    this.#connection.verified.then(
      () => {
        if (!this.#closed) this.#events.control(message);
      },
      () => {},
    );
  }
}

function asFerryError(error: unknown): FerryError {
  return error instanceof FerryError ? error : new FerryError('INTERNAL', 'Something went wrong with the connection.');
}
