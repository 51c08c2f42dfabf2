/**
 * `ferry receive --nearby`'s side of one transfer: an adapter over the engine's
 * ReceiverSession (shared/p2p/receiver-session.ts), as the app's IncomingTransfer is. The
 * session opens the offer (the manifest, every file with its BLAKE3), answers, takes the
 * records in order, acknowledges them, resumes on a new connection (`resume-at`) or reads
 * the rest from the relay share (shared/p2p/relay-read.ts relayRoute), and tells the sender
 * how it ended. Its sink is the engine's VerifyingSink (each record opened, each file's
 * BLAKE3 compared) over PartFileStore (`<name>.ferry-part`, renamed only once verified) or,
 * with `-o -`, StdoutStore.
 *
 * This file owns what lies outside the session: where the files land (never over an
 * existing file; one file only for stdout), which connection is current, a watchdog for a
 * connection that goes silent, the lines on stderr and the progress, and waiting until a
 * transfer that failed has left nothing behind before it reports.
 */
import { FerryError } from '../../shared/errors.ts';
import type { Manifest } from '../../shared/manifest.ts';
import type { PeerChannel } from '../../shared/p2p/channel.ts';
import type { ControlMessage, ControlMessageOf } from '../../shared/p2p/frames.ts';
import type { SessionOutcome } from '../../shared/p2p/machine.ts';
import { ReceiverSession, type ReceiverState } from '../../shared/p2p/receiver-session.ts';
import type { SinkEvents } from '../../shared/p2p/record-sink.ts';
import { relayRoute } from '../../shared/p2p/relay-read.ts';
import { type FileStore, VerifyingSink } from '../../shared/p2p/verifying-sink.ts';
import { NODE_CRYPTO_AEAD } from '../node-aead.ts';
import { Progress } from '../progress.ts';
import { exists, targetOf } from '../receive.ts';
import { PartFileStore } from './part-file-store.ts';
import { asFerryError } from './peer-connection.ts';
import { StdoutStore } from './stdout-store.ts';

/**
 * No record for this long while receiving, and the connection is taken as lost: a safety
 * net should the WebRTC stack not notice a peer that went away (the transfer would otherwise
 * wait for ever). The app's share pull gives a silent peer 15 s; a loaded machine needs more.
 */
export const RECORD_STALL_MS = 30_000;

/** `-o -`: the one file goes to stdout. */
export const STDOUT = '-';

/** A connection to the sender as the recipient needs it (PeerConnection is one). */
export interface ReceiveConnection {
  readonly link: PeerChannel;
  /** Rejects once the connection is gone. */
  readonly lost: Promise<never>;
  onControl: (message: ControlMessage) => void;
  onBinary: (bytes: Uint8Array<ArrayBuffer>) => void;
  close(error: FerryError): void;
}

export interface DirectReceiveOptions {
  /** The server's origin, where the relay share is. */
  server: string;
  /** A directory, or STDOUT. */
  out: string;
  quiet: boolean;
  say: (line: string) => void;
  peerName: string;
  /** An offer that came sealed through the server: carries the answer back (sealed). */
  reply?: (accept: boolean) => Promise<unknown>;
  /** Where `-o -` writes (process.stdout; tests give their own). */
  stdout?: NodeJS.WritableStream;
  /** Overrides RELAY_WAIT_MS (tests). */
  relayWaitMs?: number;
  /** Overrides RECORD_STALL_MS (tests). */
  recordStallMs?: number;
}

/** The error a transfer that did not end `done` reports. */
function errorOf(outcome: SessionOutcome): FerryError {
  if (outcome.state === 'failed') return outcome.error;
  return new FerryError('ABORTED', outcome.state === 'declined' ? 'Declined.' : 'Cancelled.');
}

/** Where each file of `manifest` lands under `out`; refuses a file that exists, or several files for stdout. */
async function landing(manifest: Manifest, out: string): Promise<string[]> {
  if (out === STDOUT) {
    if (manifest.files.length !== 1) {
      throw new FerryError('BAD_REQUEST', `This offer has ${manifest.files.length} files: use -o DIR, not -o -.`);
    }
    return [STDOUT];
  }
  const targets = manifest.files.map((f) => targetOf(out, f.name));
  for (const target of targets) {
    if (await exists(target)) throw new FerryError('CONFLICT', `${target} already exists.`);
  }
  return targets;
}

export class DirectReceive {
  readonly session: ReceiverSession;
  readonly #options: DirectReceiveOptions;
  readonly #settled: Promise<SessionOutcome>;
  #connection: ReceiveConnection | null = null;
  /** A new connection whose `resume` the session is answering; current once it resumed. */
  #resuming: ReceiveConnection | null = null;
  #sink: VerifyingSink | null = null;
  #targets: string[] = [];
  #progress: Progress | null = null;
  #replied: Promise<unknown> = Promise.resolve();
  #state: ReceiverState = 'opening';
  #heard = Date.now();
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #relayed = false;
  #resumes = 0;

  /** `connection`: the one the offer came on; null for an offer sealed through the server (`options.reply`). */
  constructor(offer: ControlMessageOf<'offer'>, connection: ReceiveConnection | null, options: DirectReceiveOptions) {
    this.#options = options;
    let settle!: (outcome: SessionOutcome) => void;
    this.#settled = new Promise((resolve) => {
      settle = resolve;
    });
    const { reply } = options;
    this.session = new ReceiverSession(offer, connection?.link ?? null, (events) => this.#makeSink(events), {
      onState: (state) => this.#onState(state),
      onVerified: (_file, _records, verified) => this.#progress?.update(verified),
      relay: relayRoute(() => this.session, {
        base: options.server,
        peerName: options.peerName,
        ...(options.relayWaitMs === undefined ? {} : { waitMs: options.relayWaitMs }),
      }),
      ...(reply
        ? {
            reply: (accept: boolean) => {
              this.#replied = reply(accept);
            },
          }
        : {}),
      ...(options.relayWaitMs === undefined ? {} : { relayWaitMs: options.relayWaitMs }),
      onSettle: (outcome) => {
        clearInterval(this.#watchdog);
        settle(outcome);
      },
    });
    if (connection) this.#use(connection);
  }

  get transfer(): string {
    return this.session.transfer;
  }
  /** Whether records are still to come over a channel (or will, once the sender reconnects). */
  get active(): boolean {
    return this.session.state === 'receiving' || this.session.state === 'reconnecting';
  }
  /** Whether some records came through the relay share. */
  get relayed(): boolean {
    return this.#relayed;
  }
  /** How many times the transfer continued on a new connection. */
  get resumes(): number {
    return this.#resumes;
  }

  /**
   * Opens the offer and decides where its files land; rejects when it cannot be taken (the
   * sender is told over the channel with the code: MANIFEST_INVALID, CONFLICT, BAD_REQUEST).
   */
  async open(): Promise<Manifest> {
    await this.session.opened;
    const manifest = this.session.manifest;
    if (!manifest || this.session.outcome) throw errorOf(this.session.outcome ?? { state: 'cancelled' });
    try {
      this.#targets = await landing(manifest, this.#options.out);
    } catch (error) {
      this.#refuse(asFerryError(error));
      throw error;
    }
    return manifest;
  }

  /**
   * Accepts (after `open`) and receives; resolves with where the files are once every one
   * is verified, or rejects with the transfer's error once nothing that failed is left.
   */
  async receive(): Promise<string[]> {
    const total = this.session.ciphers.reduce((n, c) => n + c.size, 0);
    this.#progress = new Progress('receiving', total, { quiet: this.#options.quiet });
    this.session.accept();
    const outcome = await this.#settled;
    await this.#replied;
    // The session releases the sink without waiting; a failed file's part is gone before this reports.
    await this.#sink?.close(outcome.state !== 'done');
    if (outcome.state !== 'done') throw errorOf(outcome);
    this.#progress.finish();
    return this.#targets;
  }

  /** Declines (after `open`); resolves once the answer left. */
  async decline(): Promise<void> {
    this.session.decline();
    await this.#replied;
  }

  /**
   * A new connection from the sender, authenticated with this transfer's secret: its
   * `resume` goes to the session, which answers `resume-at` once every record received is
   * handled; the records then come over it.
   */
  resumeOn(connection: ReceiveConnection): void {
    connection.onControl = (message) => {
      if (message.type !== 'resume' || message.transfer !== this.transfer) {
        this.session.onControl(message);
        return;
      }
      if (this.session.state === 'reconnecting') this.#resuming = connection;
      this.session.resumeOn(connection.link).catch((error: unknown) => this.session.fail(asFerryError(error)));
    };
    connection.lost.catch(() => {});
  }

  #makeSink(events: SinkEvents): VerifyingSink {
    const store: FileStore =
      this.#options.out === STDOUT
        ? new StdoutStore(this.#options.stdout ?? process.stdout)
        : new PartFileStore(this.#targets);
    // node:crypto opens the records, as it seals them for ferry send (cli/node-aead.ts).
    this.#sink = new VerifyingSink(store, events, NODE_CRYPTO_AEAD);
    return this.#sink;
  }

  #use(connection: ReceiveConnection): void {
    this.#connection = connection;
    this.#heard = Date.now();
    connection.onControl = (message) => this.session.onControl(message);
    connection.onBinary = (bytes) => {
      if (this.#connection !== connection) return;
      this.#heard = Date.now();
      this.session.onFrame(bytes);
    };
    connection.lost.catch((error: unknown) => {
      if (this.#connection !== connection) return;
      this.#connection = null;
      const reason = asFerryError(error);
      if (this.session.state === 'receiving') {
        this.#options.say(
          `The connection to ${this.#options.peerName} was lost (${reason.message}); waiting for it to resume or continue through Ferry's server…`,
        );
      }
      this.session.channelLost(reason, connection.link);
    });
  }

  #onState(state: ReceiverState): void {
    const from = this.#state;
    this.#state = state;
    const name = this.#options.peerName;
    if (state === 'receiving') {
      this.#heard = Date.now();
      this.#watch();
      if (from === 'reconnecting' && this.#resuming) {
        this.#use(this.#resuming);
        this.#resuming = null;
        this.#resumes++;
        this.#options.say(`Route: directly from ${name} again (resumed).`);
      }
    }
    if (state === 'relaying') {
      this.#relayed = true;
      this.#options.say(`Route: through Ferry's server (relay) from ${name}.`);
    }
  }

  /** While receiving: closes the current connection once nothing arrived on it for RECORD_STALL_MS. */
  #watch(): void {
    if (this.#watchdog !== undefined) return;
    const stallMs = this.#options.recordStallMs ?? RECORD_STALL_MS;
    this.#watchdog = setInterval(
      () => {
        if (this.session.state !== 'receiving' || Date.now() - this.#heard < stallMs) return;
        this.#heard = Date.now();
        const silent = `nothing arrived for ${Math.round(stallMs / 1000)} s`;
        this.#connection?.close(new FerryError('NETWORK_ERROR', silent));
      },
      Math.min(1000, stallMs / 4),
    );
  }

  /** A failure on this side before the records: the sender hears it over the channel, then the session fails. */
  #refuse(error: FerryError): void {
    try {
      this.#connection?.link.sendControl({
        type: 'cancel',
        transfer: this.transfer,
        code: error.code,
        message: error.message.slice(0, 500),
      });
    } catch {
      // The connection is already gone.
    }
    this.session.fail(error);
  }
}
