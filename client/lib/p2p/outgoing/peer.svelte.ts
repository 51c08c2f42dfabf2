/**
 * The peer route: files to a nearby or paired device over the authenticated data channel.
 * Once the files are hashed the engine's SenderSession offers them and sends the records;
 * this class mirrors its state into runes, keeps the acknowledgements in IndexedDB and
 * gives it the relay route (relay-route.ts) for the rest after a drop that no new
 * connection resumed (Nearby reconnects, then calls `resume` or `relay`).
 */
import { FerryError } from '../../../../shared/errors.ts';
import type { ControlMessage } from '../../../../shared/p2p/frames.ts';
import { FRAME_V1 } from '../../../../shared/p2p/frames.ts';
import { type SenderOutcome, SenderSession, type SenderState } from '../../../../shared/p2p/sender-session.ts';
import { WEB_CRYPTO_AEAD } from '../../../../shared/record-aead.ts';
import { recordCount } from '../../../../shared/records.ts';
import { attention } from '../../pwa/attention.ts';
import { deleteProgress, ProgressLog } from '../p2p-db.ts';
import type { PeerLink, Route } from '../peer-link.ts';
import type { PreparedSend } from './prepare.ts';
import { RelayRoute } from './relay-route.ts';
import { type OutgoingPhase, OutgoingTransfer } from './transfer.svelte.ts';

/** The session's states as the tile names them (`offered`: waiting for the answer). */
const PHASE_OF: Record<SenderState, OutgoingPhase> = {
  confirm: 'confirm',
  offered: 'waiting',
  sending: 'sending',
  reconnecting: 'reconnecting',
  relaying: 'relaying',
  done: 'done',
  declined: 'declined',
  failed: 'failed',
  cancelled: 'cancelled',
};

export class PeerSend extends OutgoingTransfer {
  #route = $state<Route | null>(null);
  #resumes = $state(0);
  readonly #frames: number;
  readonly #progress = new ProgressLog();
  #prepared: PreparedSend | null = null;
  #session: SenderSession | null = null;
  #link: PeerLink | null = null;
  /** Why it ended before a session existed, if it did. */
  #abort: FerryError | null = null;
  #relay: RelayRoute | null = null;

  /**
   * `frames`: the highest data-channel frame version the recipient reads (its `hello`); a
   * page from before version 2 frames does not say it, and gets one record per version 1
   * frame, which every version reads.
   */
  constructor(peerName: string, files: File[], frames: number = FRAME_V1) {
    super(peerName, files);
    this.#frames = frames;
  }

  override get route(): Route | null {
    return this.#route;
  }
  override get resumes(): number {
    return this.#resumes;
  }
  /** The transfer's secret while it waits to resume: it keys the reconnection's MAC (shared/p2p/auth.ts). */
  get resumeSecret(): Uint8Array<ArrayBuffer> | null {
    return this.#session?.resumeSecret ?? null;
  }

  /** The link is open; `confirmed` resolves once the people compared codes (or the MAC verified). */
  async run(link: PeerLink, confirmed: Promise<void>): Promise<void> {
    this.#link = link;
    let prepared: PreparedSend;
    try {
      prepared = await this.prepare(() => this.#check());
      this.#check();
    } catch (error) {
      this.failed(error);
      return;
    }
    this.#prepared = prepared;
    const session = new SenderSession(
      {
        transfer: this.id,
        secret: prepared.secret,
        manifest: prepared.manifest,
        ciphers: prepared.ciphers,
        sources: this.sourceFiles.map(
          (file) => async (start, end) => new Uint8Array(await file.slice(start, end).arrayBuffer()),
        ),
        frames: this.#frames,
        aead: WEB_CRYPTO_AEAD,
      },
      {
        onState: (state) => this.#onState(state),
        onAck: (file, records, verified) => this.#onAck(file, records, verified),
        relay: (from, onStored) => this.#relayRest(from, onStored),
        onSettle: (outcome) => this.#onSettle(outcome),
      },
    );
    this.#session = session;
    this.enter('confirm');
    await session.run(link, confirmed);
  }

  /** A control message about this transfer from the recipient. */
  onControl(message: ControlMessage): void {
    this.#session?.onControl(message);
  }

  /**
   * `link` is gone. A transfer that was sending over it waits for a new link or the relay
   * and answers true (the caller reconnects); one already waiting or relaying carries on,
   * as does one that uses another link; anything else fails.
   */
  linkLost(error: FerryError, link: PeerLink): boolean {
    if (!this.#session) {
      if (link === this.#link) this.fail(error);
      return false;
    }
    return this.#session.channelLost(error, link);
  }

  /**
   * Continues on a new link, already authenticated with this transfer's secret (the
   * session asks how far each file is verified). Throws when the recipient does not answer
   * in time or the link died meanwhile (the caller may try again or switch to the relay).
   */
  async resume(link: PeerLink): Promise<void> {
    if (this.#session?.state !== 'reconnecting') return;
    this.#link = link;
    await this.#session.resume(link);
  }

  /** No connection came back: the rest goes through Ferry's server. */
  relay(): void {
    this.#session?.relay();
  }

  fail(error: FerryError): void {
    if (!this.active) return;
    if (this.#session) {
      this.#session.fail(error);
      return;
    }
    this.#abort = error;
    this.failed(error);
  }

  cancel(): void {
    if (!this.active) return;
    if (this.#session) {
      this.#session.cancel();
      return;
    }
    this.#abort = new FerryError('ABORTED', 'Cancelled.');
    this.enter('cancelled');
  }

  #check(): void {
    if (this.#abort) throw this.#abort;
  }

  #onState(state: SenderState): void {
    const from = this.phase;
    this.enter(PHASE_OF[state]);
    if (state === 'sending') {
      if (from === 'reconnecting') this.#resumes++;
      attention.running(this, true);
      const link = this.#link;
      const current = this.#session;
      void link?.route().then((route) => {
        if (this.#session === current) this.#route = route;
      });
    }
    if (state === 'relaying') this.markRelayed();
  }

  #onSettle(outcome: SenderOutcome): void {
    attention.running(this, false);
    if (outcome.state === 'done') void deleteProgress(this.id).catch(() => {});
    // A relay share of a transfer that will not finish is revoked, so nobody waits on it.
    else this.#relay?.stop();
    if (outcome.state === 'failed') this.failed(outcome.error);
  }

  /** The session's relay route: the rest of each file from the first record the recipient did not acknowledge. */
  async #relayRest(from: number[], onStored: (file: number, bytes: number) => void): Promise<void> {
    const prepared = this.#prepared;
    const session = this.#session;
    if (!prepared || !session) throw new FerryError('NETWORK_ERROR', 'The connection to the other device was lost.');
    const relay = new RelayRoute(prepared, this.sourceFiles);
    this.#relay = relay;
    await relay.send(from, (file, bytes) => {
      onStored(file, bytes);
      this.progressTo(session.verified);
    });
  }

  #onAck(file: number, records: number, verified: number): void {
    const cipher = this.#prepared?.ciphers[file];
    if (!cipher) return;
    this.progressTo(verified);
    this.#progress.note({ transfer: this.id, file, verified: records, records: recordCount(cipher), role: 'sender' });
  }
}
