/**
 * Sending files to one nearby or paired device, as the device tile sees it: what is sent,
 * the phase, progress and speed. One class per route owns the lifecycle behind it:
 *
 * - `PeerSend` (peer.svelte.ts): over the authenticated data channel, driven by the
 *   engine's SenderSession (shared/p2p/sender-session.ts: its transition table, window,
 *   resume), and through the relay route after a drop it could not resume from;
 * - `MailboxSend` (mailbox.svelte.ts): to a paired device no data channel reached, through
 *   the relay route from the start, its offer sealed for the device and its answer
 *   coming back the same way.
 *
 * Nothing is created on the server for the peer route and tus never starts there; the
 * relay route (relay-route.ts) is tus in the browser.
 */
import { toBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { shareNames } from '../../transfer/send/names.ts';
import { SpeedMeter, secondsLeft } from '../../transfer/send/progress.ts';
import type { Route } from '../peer-link.ts';
import { type PreparedSend, prepareSend } from './prepare.ts';

export type OutgoingPhase =
  | 'connecting'
  | 'preparing'
  | 'confirm'
  | 'waiting'
  | 'sending'
  | 'reconnecting'
  | 'relaying'
  | 'done'
  | 'declined'
  | 'failed'
  | 'cancelled';

/** What a paired device answered to an offer sent through the relay: it accepted, then read every file. */
export type OfflineReply = 'accepted' | 'received';

export interface OutgoingFile {
  name: string;
  size: number;
}

export abstract class OutgoingTransfer {
  readonly id = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  readonly peerName: string;
  readonly files: OutgoingFile[];
  readonly total: number;
  #phase = $state<OutgoingPhase>('connecting');
  #error = $state<string | null>(null);
  #verified = $state(0);
  #speed = $state(0);
  #relayed = $state(false);
  #noRoute = $state(false);
  readonly #source: File[];
  readonly #meter = new SpeedMeter();

  constructor(peerName: string, files: File[]) {
    this.peerName = peerName;
    this.#source = files;
    const names = shareNames(files.map((f) => ({ name: f.name })));
    this.files = files.map((f, i) => ({ name: names[i]!, size: f.size }));
    this.total = files.reduce((sum, f) => sum + f.size, 0);
  }

  get phase(): OutgoingPhase {
    return this.#phase;
  }
  get error(): string | null {
    return this.#error;
  }
  /** Plaintext bytes the recipient has verified (through the relay: the server has stored). */
  get verified(): number {
    return this.#verified;
  }
  get bytesPerSecond(): number {
    return this.#speed;
  }
  get secondsLeft(): number | null {
    return secondsLeft(this.total - this.#verified, this.#speed);
  }
  get active(): boolean {
    return !['done', 'declined', 'failed', 'cancelled'].includes(this.#phase);
  }
  /** Whether (some of) the files went through Ferry's server. */
  get relayed(): boolean {
    return this.#relayed;
  }
  /** The files picked, to send another way (a link) when no direct route was found. */
  get sourceFiles(): readonly File[] {
    return this.#source;
  }
  /** Whether the data channel's candidate pair is direct or through TURN; null off the peer route. */
  get route(): Route | null {
    return null;
  }
  /** How many times the transfer continued on a new connection. */
  get resumes(): number {
    return 0;
  }
  /** Whether it failed before any connection to the peer opened: no direct route was found. */
  get noRoute(): boolean {
    return this.#noRoute;
  }
  /** Whether it went through Ferry's server from the start: no direct connection to the paired device opened. */
  get offline(): boolean {
    return false;
  }
  /** Through the relay from the start: whether the paired device accepted, then read the files; null meanwhile. */
  get offlineReply(): OfflineReply | null {
    return null;
  }

  /** The connection or the other side ended it. */
  abstract fail(error: FerryError): void;
  /** The person stopped it; the recipient is told where a route allows. */
  abstract cancel(): void;

  protected enter(phase: OutgoingPhase): void {
    this.#phase = phase;
  }

  /**
   * Ends it as failed with `error`'s sentence, unless it was cancelled or declined already;
   * while still connecting, no route to the device was found.
   */
  protected failed(error: unknown): void {
    if (this.#phase === 'cancelled' || this.#phase === 'declined') return;
    this.#noRoute = this.#phase === 'connecting';
    this.#phase = 'failed';
    this.#error = error instanceof FerryError ? error.message : 'The transfer failed.';
  }

  protected markRelayed(): void {
    this.#relayed = true;
  }

  protected progressTo(verified: number): void {
    this.#verified = verified;
    this.#meter.sample(performance.now(), verified);
    this.#speed = this.#meter.bytesPerSecond();
  }

  /** Plans the share, hashes every file and seals the manifest; `check` throws once the transfer stopped. */
  protected prepare(check: () => void): Promise<PreparedSend> {
    this.#phase = 'preparing';
    return prepareSend(
      this.#source,
      this.files.map((f) => f.name),
      check,
    );
  }
}
