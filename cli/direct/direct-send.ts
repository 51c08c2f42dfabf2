/**
 * `ferry send --to`'s side of a transfer: an adapter over the engine's SenderSession
 * (shared/p2p/sender-session.ts), as the app's OutgoingTransfer is. This file plans the
 * transfer (a fresh secret, a nonce base per file, each file's BLAKE3, the sealed manifest),
 * hands the session the connection, and owns what lies outside the session: reconnecting
 * when the channel drops mid-file (RECONNECT_WINDOW_MS, each new connection keyed with the
 * transfer's own secret, then `resume` from the first record the recipient lacks), the
 * relay route (relay-route.ts, tus through the server) when no connection comes back, and
 * saying on stderr which route carries the files. The records, window, resume and every
 * exit are the session's.
 */
import { fromBase64Url, toBase64Url } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { deriveShareKeys, fileCipherOf, newSecret } from '../../shared/keys.ts';
import { sealManifest } from '../../shared/manifest.ts';
import type { PeerChannel } from '../../shared/p2p/channel.ts';
import type { ControlMessage } from '../../shared/p2p/frames.ts';
import { beforeDeadline, RECONNECT_WINDOW_MS } from '../../shared/p2p/relay.ts';
import {
  type SenderOutcome,
  type SenderPlan,
  SenderSession,
  type SenderState,
} from '../../shared/p2p/sender-session.ts';
import type { FileCipher } from '../../shared/records.ts';
import { manifestOf, planFileOf } from '../../shared/share-plan.ts';
import { hashFile } from '../file-hasher.ts';
import { NODE_CRYPTO_AEAD } from '../node-aead.ts';
import { Progress } from '../progress.ts';
import { type LocalFile, readRange } from '../sources.ts';
import type { RelayPlan } from './relay-route.ts';

/** Pauses between attempts to reach the recipient again, doubling up to the last (the app's). */
export const RECONNECT_FIRST_DELAY_MS = 250;
export const RECONNECT_MAX_DELAY_MS = 4000;

/**
 * No acknowledgement for this long while records are outstanding, and the connection is
 * taken as lost: a safety net should WebRTC not notice a peer that went away (the session
 * would otherwise wait for ever). The app's share pull gives a silent peer 15 s; a command
 * on a loaded machine needs more.
 */
export const ACK_STALL_MS = 30_000;

/** A connection to the recipient as the sender needs it (PeerConnection is one). */
export interface SendConnection {
  readonly link: PeerChannel;
  readonly auth: { readonly confirmed: Promise<void> };
  /** Rejects once the connection is gone. */
  readonly lost: Promise<never>;
  onControl: (message: ControlMessage) => void;
  close(error: FerryError): void;
}

/** The relay route as the sender needs it (relay-route.ts RelayRoute is one). */
export interface SendRelay {
  send(from: readonly number[], onStored: (file: number, bytes: number) => void): Promise<void>;
  stop(): void;
  withdraw(): Promise<void>;
}

export interface DirectSendOptions {
  peerName: string;
  quiet: boolean;
  /** A line on stderr (which route, what happened). */
  say: (line: string) => void;
  /**
   * A new connection to the same device, authenticated with `secret` (MAC mode, no code):
   * null when the device is no longer there to connect to.
   */
  reconnect: (secret: Uint8Array<ArrayBuffer>) => SendConnection | null;
  /** Overrides RECONNECT_WINDOW_MS (tests). */
  reconnectWindowMs?: number;
  /** Overrides ACK_STALL_MS (tests). */
  ackStallMs?: number;
}

/** A transfer of local files, planned: what the session sends and what the relay route needs. */
export interface PlannedTransfer {
  plan: SenderPlan;
  relay: RelayPlan;
}

/** Plans `files` for a peer that reads frames up to version `frames`: hashes each, seals the manifest. */
export async function planTransfer(files: readonly LocalFile[], frames: number): Promise<PlannedTransfer> {
  const secret = newSecret();
  const keys = await deriveShareKeys(secret);
  const planned = [];
  for (const file of files) planned.push({ ...planFileOf(file), blake3: await hashFile(file) });
  const manifest = await sealManifest(manifestOf(planned), keys.metaKey);
  const ciphers: FileCipher[] = [];
  for (const file of planned) {
    ciphers.push(await fileCipherOf(keys.contentKey, fromBase64Url(file.nonce), file, file.name));
  }
  const paths = files.map((f) => f.path);
  return {
    plan: {
      transfer: toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
      secret,
      manifest,
      ciphers,
      sources: paths.map((path) => (start, end) => readRange(path, start, end)),
      frames,
      aead: NODE_CRYPTO_AEAD,
    },
    relay: { secret, manifest, ciphers, paths },
  };
}

/** One transfer to one device: the session, its connections and its relay route. */
export class DirectSend {
  readonly session: SenderSession;
  /** How many times the transfer continued on a new connection. */
  resumes = 0;
  readonly #options: DirectSendOptions;
  readonly #relay: SendRelay;
  readonly #progress: Progress;
  #connection: SendConnection | null = null;
  #sendingSaid = false;
  #relayed = false;

  constructor(planned: PlannedTransfer, relay: SendRelay, options: DirectSendOptions) {
    this.#options = options;
    this.#relay = relay;
    const total = planned.plan.ciphers.reduce((n, c) => n + c.size, 0);
    this.#progress = new Progress('sending', total, { quiet: options.quiet });
    this.session = new SenderSession(planned.plan, {
      onState: (state) => this.#onState(state),
      onAck: (_file, _records, verified) => this.#progress.update(verified),
      relay: (from, onStored) =>
        this.#relay.send(from, (file, bytes) => {
          onStored(file, bytes);
          this.#progress.update(this.session.verified);
        }),
      onSettle: (outcome) => {
        this.#relay.stop();
        if (outcome.state !== 'done') void this.#relay.withdraw();
      },
    });
  }

  /** Whether the rest went through the relay. */
  get relayed(): boolean {
    return this.#relayed;
  }

  /** Runs the transfer over `connection` (and any it reconnects with) until it settles. */
  async run(connection: SendConnection): Promise<SenderOutcome> {
    this.#use(connection);
    const outcome = await this.session.run(connection.link, connection.auth.confirmed);
    if (outcome.state === 'done') {
      this.#progress.update(this.session.verified);
      this.#progress.finish();
    }
    this.#connection?.close(new FerryError('ABORTED', 'Done.'));
    return outcome;
  }

  /** Ends it: the recipient is told while a channel is up. */
  cancel(): void {
    this.session.cancel();
  }

  #use(connection: SendConnection): void {
    this.#connection = connection;
    connection.onControl = (message) => this.session.onControl(message);
    const watchdog = this.#watch(connection);
    connection.lost.catch((error: unknown) => {
      clearInterval(watchdog);
      const reason = error instanceof FerryError ? error : new FerryError('NETWORK_ERROR', 'The connection was lost.');
      if (this.session.channelLost(reason, connection.link)) void this.#reconnect();
    });
  }

  /** Closes `connection` once the recipient acknowledged nothing for ACK_STALL_MS while sending. */
  #watch(connection: SendConnection): ReturnType<typeof setInterval> {
    const stallMs = this.#options.ackStallMs ?? ACK_STALL_MS;
    let verified = this.session.verified;
    let since = Date.now();
    const watchdog = setInterval(
      () => {
        if (this.session.outcome || this.#connection !== connection) {
          clearInterval(watchdog);
          return;
        }
        if (this.session.state !== 'sending' || this.session.verified !== verified) {
          verified = this.session.verified;
          since = Date.now();
          return;
        }
        if (Date.now() - since < stallMs) return;
        clearInterval(watchdog);
        const silent = `${this.#options.peerName} acknowledged nothing for ${Math.round(stallMs / 1000)} s.`;
        connection.close(new FerryError('NETWORK_ERROR', silent));
      },
      Math.min(1000, stallMs / 4),
    );
    return watchdog;
  }

  #onState(state: SenderState): void {
    const name = this.#options.peerName;
    if (state === 'sending' && this.resumes === 0 && !this.#sendingSaid) {
      this.#sendingSaid = true;
      this.#options.say(`Route: directly to ${name} (WebRTC).`);
    }
    if (state === 'reconnecting') this.#options.say(`The connection to ${name} was lost; reconnecting…`);
    if (state === 'relaying') {
      this.#relayed = true;
      this.#options.say(`Route: through Ferry's server (relay): ${name} could not be reached again directly.`);
    }
  }

  /**
   * The channel dropped mid-file: connect again with backoff for at most the reconnect
   * window, each connection keyed with the transfer's secret, and resume on the first that
   * answers; when the device has left or the window passed, the rest goes through the relay.
   */
  async #reconnect(): Promise<void> {
    const deadline = Date.now() + (this.#options.reconnectWindowMs ?? RECONNECT_WINDOW_MS);
    let delay = RECONNECT_FIRST_DELAY_MS;
    while (this.session.state === 'reconnecting' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
      const secret = this.session.resumeSecret;
      if (!secret) return;
      const connection = this.#options.reconnect(secret);
      if (!connection) break;
      try {
        await beforeDeadline(Promise.race([connection.auth.confirmed, connection.lost]), deadline);
        this.#use(connection);
        await this.session.resume(connection.link);
        this.resumes++;
        this.#options.say(`Route: directly to ${this.#options.peerName} again (resumed).`);
        return;
      } catch (error) {
        connection.close(error instanceof FerryError ? error : new FerryError('NETWORK_ERROR', String(error)));
      }
    }
    this.session.relay();
  }
}
