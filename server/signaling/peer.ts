/**
 * One signaling connection: the peer's identity, its flood bucket and the one way to send
 * it a message. Everything a handler may change about a peer is here.
 */
import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import { displayName } from '../../shared/display-name.ts';
import type { ErrorCode } from '../../shared/errors.ts';
import type { ServerMessage } from '../../shared/signaling.ts';
import type { PeerRecord } from './bus.ts';
import { TokenBucket } from './token-bucket.ts';

/**
 * A peer that does not read its socket gets no more than this queued on the server; past
 * it the connection is cut instead of buffering a stuck peer's relays without limit.
 */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

export class Peer {
  readonly id: string;
  /** Generated from the peer id: the name until `hello` says the device's own. */
  readonly generatedName: string;
  /** What others see: the device's own name once `hello` said it (display-name.ts `peerName`). */
  name: string;
  /** The client address (after trusted-proxy handling). */
  readonly address: string;
  /** Its network key (IPv4 address or IPv6 /64): the unit of per-client limits. */
  readonly network: string;
  readonly networkRoom: string;
  readonly bucket: TokenBucket;
  deviceName: string | null = null;
  deviceId: string | null = null;
  frames: number | null = null;
  /** Cleared at each heartbeat ping; set again by a pong or any message. */
  alive = true;
  /** Over-limit messages since the last accepted one. */
  strikes = 0;
  /** Set once the peer has flooded past FLOOD_STRIKES: nothing more is read. */
  cut = false;
  readonly #ws: WebSocket;
  readonly #refused: (code: ErrorCode) => void;

  /** `refused` is told the code of every refusal sent (the refusal metric). */
  constructor(
    ws: WebSocket,
    where: { address: string; network: string; networkRoom: string },
    rate: { burst: number; perSecond: number },
    now: number,
    refused: (code: ErrorCode) => void = () => undefined,
  ) {
    const seed = randomBytes(12);
    this.id = seed.toString('base64url');
    this.generatedName = displayName(seed.readUInt32BE(0));
    this.name = this.generatedName;
    this.address = where.address;
    this.network = where.network;
    this.networkRoom = where.networkRoom;
    this.bucket = new TokenBucket(rate.burst, rate.perSecond / 1000, now);
    this.#ws = ws;
    this.#refused = refused;
  }

  record(): PeerRecord {
    return {
      id: this.id,
      name: this.name,
      deviceName: this.deviceName,
      deviceId: this.deviceId,
      frames: this.frames,
    };
  }

  /** Sends one message if the socket is open; cuts a peer that has stopped reading. */
  send(message: ServerMessage): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    if (this.#ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#ws.terminate();
      return;
    }
    this.#ws.send(JSON.stringify(message));
  }

  /** The one shape of every refusal: `{ type: 'error', code, message, of? }`. */
  fail(code: ErrorCode, message: string, of?: string): void {
    this.#refused(code);
    this.send({ type: 'error', code, message, ...(of && { of }) });
  }

  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }
}
