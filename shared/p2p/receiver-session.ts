/**
 * The recipient's side of one transfer from a device (the peer route, and the relay route
 * it may fall back to), environment-neutral: a PeerChannel, a RecordSink (record-sink.ts)
 * and WebCrypto. The app's IncomingTransfer (client/lib/p2p/incoming.svelte.ts) drives it
 * over its OPFS writer; the ferry command can drive it over a file sink.
 *
 *   opening ──opened──► offered ──accept──► receiving ──complete──► done
 *                        │  │                 │  ▲
 *                  decline  relay           lost resume
 *                        ▼  │                 ▼  │
 *                 declined  │             reconnecting ──complete──► done
 *                           ▼                 │
 *                        relaying ◄───relay───┘
 *                           └──complete──► done
 *
 *   every state but a final one: cancel ──► cancelled, fail ──► failed
 *
 * RECEIVER_TRANSITIONS is that table; `#settle(outcome)` is the one way into a final state:
 * it clears the timers, wakes every wait, releases the sink (deleting every file not
 * verified whole unless the transfer is done) and tells `onSettle` once.
 *
 * On the wire (frames.ts), the mirror of sender-session.ts: the `offer` carries the link
 * secret and the sealed manifest, opened and checked (every file with its BLAKE3) before the
 * person is asked; `answer {accept}`; then record frames, files in order and records in
 * order within each, handed to the sink, which verifies and stores them. Every
 * ACK_EVERY_BYTES of verified plaintext, and at each file's end, the sender hears `ack`
 * (how many records are verified), which also paces it (its window). Once every file is
 * verified whole: `complete`. A failure here sends `cancel` with its code and sentence.
 *
 * When the channel drops while receiving, the session waits (`reconnecting`): the sender
 * may come back on a new channel keyed with this transfer's secret (`resumeSecret`) and
 * ask to `resume`; once the sink has handled every record it was given, this side answers
 * `resume-at` (records verified per file) and the sender continues from there. Meanwhile
 * the relay route looks for the relay share; when the sender switched to it, every file
 * is read from its first missing record into the same sink. Neither within RELAY_WAIT_MS:
 * the transfer fails. An offer that came through the server (no channel) is read from the
 * relay share from the start.
 */
import { fromBase64Url } from '../encoding.ts';
import { FerryError } from '../errors.ts';
import { deriveShareKeys } from '../keys.ts';
import { fileCipher, type Manifest, openManifest } from '../manifest.ts';
import { type FileCipher, plainRange, recordCount } from '../records.ts';
import type { PeerChannel } from './channel.ts';
import { type ControlMessage, type ControlMessageOf, decodeFrame, frameRefusal } from './frames.ts';
import { Machine, type SessionOutcome, type TransitionTable } from './machine.ts';
import type { RecordSink, SinkFactory } from './record-sink.ts';
import { RELAY_WAIT_MS } from './relay.ts';
import { type SessionTimer, SessionWaits } from './session-waits.ts';

/** Acknowledge verified records at least this often (plaintext bytes). */
export const ACK_EVERY_BYTES = 2 * 1024 * 1024;
/** Records read from the relay but not yet verified, at most (like the sender's window). */
export const RELAY_WINDOW_BYTES = 16 * 1024 * 1024;

export type ReceiverState =
  | 'opening'
  | 'offered'
  | 'receiving'
  | 'reconnecting'
  | 'relaying'
  | 'done'
  | 'declined'
  | 'failed'
  | 'cancelled';
export type ReceiverEvent =
  | 'opened'
  | 'accept'
  | 'decline'
  | 'lost'
  | 'resume'
  | 'relay'
  | 'complete'
  | 'cancel'
  | 'fail';

const EXITS = { cancel: 'cancelled', fail: 'failed' } as const;

export const RECEIVER_TRANSITIONS: TransitionTable<ReceiverState, ReceiverEvent> = {
  opening: { opened: 'offered', ...EXITS },
  offered: { accept: 'receiving', relay: 'relaying', decline: 'declined', ...EXITS },
  receiving: { complete: 'done', lost: 'reconnecting', ...EXITS },
  // Every record may be in already when the channel drops: nothing more is needed then.
  reconnecting: { resume: 'receiving', relay: 'relaying', complete: 'done', ...EXITS },
  relaying: { complete: 'done', ...EXITS },
  done: {},
  declined: {},
  failed: {},
  cancelled: {},
};

/** How a session ended. */
export type ReceiverOutcome = SessionOutcome;

/** The relay route: the share both sides derive from the transfer's secret (relay.ts). */
export interface RelayRoute {
  /** Resolves true once the relay share exists, false when it gave up or `stopped()` holds. */
  find(stopped: () => boolean): Promise<boolean>;
  /**
   * Reads each listed file from record `from` to its end, in order, handing each whole
   * sealed record to `onRecord` (awaited: it holds the next read back); resolves when all
   * are read or `stopped()` holds, rejects to fail the transfer.
   */
  read(
    files: readonly { file: number; from: number }[],
    onRecord: (file: number, record: number, sealed: Uint8Array<ArrayBuffer>) => Promise<void>,
    stopped: () => boolean,
  ): Promise<void>;
}

export interface ReceiverHooks {
  /** The state changed (for display state). */
  onState?: (state: ReceiverState) => void;
  /** Records [0, records) of `file` are verified (`verified`: plaintext bytes of all files). */
  onVerified?: (file: number, records: number, verified: number) => void;
  /** The sender was told (or, through the relay, would have been) that `records` of `file` are verified. */
  onAck?: (file: number, records: number) => void;
  /**
   * File `file` was verified whole (`failure` null), or will not be (its failure). Files
   * verified whole are awaited in order before `complete` (the app saves each first).
   */
  onFile?: (file: number, failure: FerryError | null) => Promise<void> | void;
  /** The relay route; without it a lost channel can only be resumed, and an offer without a channel cannot be accepted. */
  relay?: RelayRoute;
  /** An offer without a channel (it came through the server): carries the answer back. */
  reply?: (accept: boolean) => void;
  /** Told once, when the session reaches a final state. */
  onSettle?: (outcome: ReceiverOutcome) => void;
  /** Overrides RELAY_WAIT_MS (tests). */
  relayWaitMs?: number;
}

const notBack = () =>
  new FerryError('NETWORK_ERROR', 'The other device did not come back, and nothing arrived through the server.');

export class ReceiverSession {
  readonly transfer: string;
  readonly #machine: Machine<ReceiverState, ReceiverEvent>;
  readonly #hooks: ReceiverHooks;
  readonly #makeSink: SinkFactory;
  readonly #secret: Uint8Array<ArrayBuffer>;
  #channel: PeerChannel | null;
  #sink: RecordSink | null = null;
  #outcome: ReceiverOutcome | null = null;
  #manifest: Manifest | null = null;
  #ciphers: FileCipher[] = [];
  /** Records verified per file (a prefix: the sink takes them strictly in order). */
  #verifiedRecords: number[] = [];
  #verifiedBytes: number[] = [];
  #lastAck: number[] = [];
  /** The next record expected per file, from the channel or the relay. */
  #received: number[] = [];
  /** The highest file handed to the sink's `open`. */
  #opened = -1;
  #files: Promise<void> = Promise.resolve();
  /** Counts the drops, so that only the watch started by the latest one may act. */
  #drops = 0;
  /** Fails a reconnecting session that neither the sender nor the relay resumed in time. */
  #notBack: SessionTimer | undefined;
  /** Every wait re-checks after a wake; stopped (every timer cleared) once the session settles. */
  readonly #waits = new SessionWaits();
  /** Resolves once the offer is opened (or refused). */
  readonly opened: Promise<void>;

  /**
   * `channel`: the authenticated channel the offer came on, or null for an offer that came
   * through the server (then `hooks.reply` and `hooks.relay` are needed). Opens the offer at once.
   */
  constructor(
    offer: ControlMessageOf<'offer'>,
    channel: PeerChannel | null,
    sink: SinkFactory,
    hooks: ReceiverHooks = {},
  ) {
    if (!channel && !(hooks.relay && hooks.reply)) throw new RangeError('an offer without a channel needs the relay');
    this.transfer = offer.transfer;
    this.#channel = channel;
    this.#makeSink = sink;
    this.#hooks = hooks;
    this.#secret = fromBase64Url(offer.secret);
    this.#machine = new Machine(RECEIVER_TRANSITIONS, 'opening', (state) => hooks.onState?.(state));
    this.opened = this.#open(offer.manifest);
  }

  get state(): ReceiverState {
    return this.#machine.state;
  }
  get outcome(): ReceiverOutcome | null {
    return this.#outcome;
  }
  /** The opened manifest (null while opening, or when the offer was refused). */
  get manifest(): Manifest | null {
    return this.#manifest;
  }
  /** Each file's record cipher, in manifest order. */
  get ciphers(): readonly FileCipher[] {
    return this.#ciphers;
  }
  /** The transfer's secret: keys the relay share (relay.ts) and a reconnection's MAC. */
  get secret(): Uint8Array<ArrayBuffer> {
    return this.#secret;
  }
  /** The transfer's secret while it can still resume: it keys the reconnection's MAC. */
  get resumeSecret(): Uint8Array<ArrayBuffer> | null {
    return this.state === 'reconnecting' ? this.#secret : null;
  }
  /** Records of each file verified. */
  get verifiedRecords(): readonly number[] {
    return this.#verifiedRecords;
  }
  /** Plaintext bytes verified, all files. */
  get verified(): number {
    return this.#verifiedBytes.reduce((a, b) => a + b, 0);
  }

  /** The person accepted: records come over the channel, or from the relay share when there is none. */
  accept(): void {
    if (this.state !== 'offered') return;
    this.#sink = this.#makeSink({
      verified: (file, records) => this.#onVerified(file, records),
      failed: (error) => this.#refuse(error),
    });
    if (!this.#channel) {
      this.#machine.fire('relay');
      this.#hooks.reply?.(true);
      void this.#readRelay();
      return;
    }
    this.#machine.fire('accept');
    this.#send({ type: 'answer', transfer: this.transfer, accept: true });
  }

  decline(): void {
    if (this.state !== 'offered') return;
    this.#hooks.reply?.(false);
    this.#send({ type: 'answer', transfer: this.transfer, accept: false });
    this.#settle({ state: 'declined' });
  }

  /** The person stopped it; the sender is told when a channel is up. */
  cancel(): void {
    if (this.#outcome) return;
    this.#send({ type: 'cancel', transfer: this.transfer, code: 'ABORTED', message: 'The recipient cancelled.' });
    this.#settle({ state: 'cancelled' });
  }

  /** The channel or the other side ended it (nothing is sent). */
  fail(error: FerryError): void {
    this.#settle({ state: 'failed', error });
  }

  /** A control message from the sender; messages about other transfers are ignored. */
  onControl(message: ControlMessage): void {
    if (message.type === 'cancel' && message.transfer === this.transfer)
      this.fail(new FerryError(message.code, message.message));
  }

  /** One binary frame from the channel (its buffer passes to the sink: this session owns it). */
  onFrame(bytes: Uint8Array<ArrayBuffer>): void {
    if (this.state !== 'receiving' || !this.#sink) return;
    const frame = decodeFrame(bytes);
    if (!frame.ok) {
      this.#refuse(frameRefusal(frame));
      return;
    }
    if (this.#take(frame.file, frame.first, frame.records.length))
      this.#sink.write(frame.file, frame.first, frame.records);
  }

  /**
   * `channel` is gone. While receiving, the session waits for the sender to come back or
   * to switch to the relay (RELAY_WAIT_MS at most); once the records flow elsewhere, or
   * every record is in, nothing is lost; before the records, it fails.
   */
  channelLost(error: FerryError, channel: PeerChannel): void {
    if (this.#outcome || channel !== this.#channel) return;
    if (this.state === 'receiving') {
      this.#machine.fire('lost');
      this.#channel = null;
      void this.#watch(++this.#drops);
    } else if (this.state === 'opening' || this.state === 'offered') {
      this.fail(error);
    }
  }

  /**
   * A new channel from the sender, authenticated with this transfer's secret, asks to
   * resume: once the sink has handled every record it was given, the sender hears how many
   * of each file are verified (`resume-at`) and sends on from there. A transfer that
   * already has everything says so and repeats `complete`. Rejects when the sink failed.
   */
  async resumeOn(channel: PeerChannel): Promise<void> {
    if (this.state === 'done') {
      channel.sendControl({ type: 'resume-at', transfer: this.transfer, files: [...this.#verifiedRecords] });
      channel.sendControl({ type: 'complete', transfer: this.transfer });
      return;
    }
    if (this.state !== 'reconnecting') return;
    await this.#sink?.sync();
    if (this.state !== 'reconnecting') return;
    this.#channel = channel;
    this.#received = [...this.#verifiedRecords];
    channel.sendControl({ type: 'resume-at', transfer: this.transfer, files: [...this.#verifiedRecords] });
    this.#stopWaiting();
    this.#machine.fire('resume');
    this.#waits.wake();
  }

  async #open(sealed: string): Promise<void> {
    try {
      const keys = await deriveShareKeys(this.#secret);
      const manifest = await openManifest(sealed, keys.metaKey);
      if (manifest.files.some((f) => f.blake3 === null)) {
        throw new FerryError('MANIFEST_INVALID', 'The offer lacks the files’ hashes.');
      }
      // Derived now, so that opening a file in the sink is synchronous with its first record.
      const ciphers = await Promise.all(manifest.files.map((f) => fileCipher(f, keys.contentKey)));
      if (this.#outcome) return;
      this.#manifest = manifest;
      this.#ciphers = ciphers;
      const zeros = () => manifest.files.map(() => 0);
      this.#verifiedRecords = zeros();
      this.#verifiedBytes = zeros();
      this.#lastAck = zeros();
      this.#received = zeros();
      this.#machine.fire('opened');
    } catch (error) {
      this.#refuse(
        error instanceof FerryError ? error : new FerryError('MANIFEST_INVALID', 'The offer was not valid.'),
      );
    }
  }

  /**
   * Checks that records [first, first + count) of `file` are the next ones due (files in
   * order, records in order within each) and opens the files up to `file` in the sink;
   * refuses the transfer and answers false when they are not.
   */
  #take(file: number, first: number, count: number): boolean {
    const cipher = this.#ciphers[file];
    if (!cipher || file < this.#opened) {
      this.#refuse(new FerryError('INVALID_MESSAGE', 'The sender sent data that does not belong to this transfer.'));
      return false;
    }
    for (let earlier = Math.max(0, this.#opened); earlier < file; earlier++) {
      const skipped = this.#ciphers[earlier]!;
      if (this.#received[earlier]! < recordCount(skipped)) {
        this.#refuse(
          new FerryError('RECORD_TRUNCATED', `${skipped.name}: the sender moved on before its last record.`),
        );
        return false;
      }
    }
    if (first !== this.#received[file] || first + count > recordCount(cipher)) {
      this.#refuse(new FerryError('RECORD_TRUNCATED', `${cipher.name}: record ${first} arrived out of order.`));
      return false;
    }
    while (this.#opened < file) this.#openFile(++this.#opened);
    this.#received[file] = first + count;
    return true;
  }

  #openFile(index: number): void {
    const sink = this.#sink!;
    const file = this.#manifest!.files[index]!;
    sink.open(index, this.#ciphers[index]!, file.blake3!).then(
      () => {
        this.#files = this.#files.then(() => this.#hooks.onFile?.(index, null)).catch(() => {});
        if (index === this.#ciphers.length - 1) void this.#files.then(() => this.#finish());
      },
      (error: unknown) => {
        const failure = error instanceof FerryError ? error : new FerryError('STORAGE_FAILED', String(error));
        void Promise.resolve(this.#hooks.onFile?.(index, failure)).catch(() => {});
        this.#refuse(failure);
      },
    );
  }

  #finish(): void {
    // Also while reconnecting: every record is in, so nothing more is needed from anyone.
    if (this.state !== 'receiving' && this.state !== 'reconnecting' && this.state !== 'relaying') return;
    this.#send({ type: 'complete', transfer: this.transfer });
    this.#settle({ state: 'done' });
  }

  #onVerified(index: number, records: number): void {
    const cipher = this.#ciphers[index];
    if (!cipher || this.#outcome || this.state === 'opening' || this.state === 'offered') return;
    this.#verifiedRecords[index] = records;
    const bytes = plainRange(cipher, records - 1)[1];
    this.#verifiedBytes[index] = bytes;
    this.#waits.wake();
    this.#hooks.onVerified?.(index, records, this.verified);
    const last = records === recordCount(cipher);
    if (last || bytes - this.#lastAck[index]! >= ACK_EVERY_BYTES) {
      this.#lastAck[index] = bytes;
      this.#send({ type: 'ack', transfer: this.transfer, file: index, verified: records });
      this.#hooks.onAck?.(index, records);
    }
  }

  /** A failure on this side: the sender is told (when a channel is up), then the session fails. */
  #refuse(error: FerryError): void {
    if (this.#outcome) return;
    this.#send({ type: 'cancel', transfer: this.transfer, code: error.code, message: error.message.slice(0, 500) });
    this.fail(error);
  }

  /** The one way into a final state: idempotent; clears every timer, wakes every wait, releases the sink. */
  #settle(outcome: ReceiverOutcome): void {
    if (this.#outcome) return;
    this.#outcome = outcome;
    const event = { done: 'complete', declined: 'decline', cancelled: 'cancel', failed: 'fail' } as const;
    this.#machine.fire(event[outcome.state]);
    this.#channel = null;
    this.#waits.stop();
    void this.#sink?.close(outcome.state !== 'done').catch(() => {});
    this.#hooks.onSettle?.(outcome);
  }

  /** Tells the sender, if a channel is up (through the relay nobody listens). */
  #send(message: ControlMessage): void {
    try {
      if (this.#channel && this.#channel.connected !== false) this.#channel.sendControl(message);
    } catch {
      // The channel is already gone.
    }
  }

  /**
   * While reconnecting: waits RELAY_WAIT_MS for the sender to resume, and meanwhile looks
   * for the relay share; when the sender switched to it, reads the rest from there.
   */
  async #watch(drop: number): Promise<void> {
    const waiting = () => this.state === 'reconnecting' && drop === this.#drops;
    this.#stopWaiting();
    this.#notBack = this.#waits.timer(() => {
      if (waiting()) this.#refuse(notBack());
    }, this.#hooks.relayWaitMs ?? RELAY_WAIT_MS);
    const relay = this.#hooks.relay;
    if (!relay) return;
    try {
      const found = await relay.find(() => !waiting());
      if (!waiting()) return;
      if (!found) throw notBack();
      this.#stopWaiting();
      this.#machine.fire('relay');
      // Whatever the channel delivered is handled first, so the relay starts where it ended.
      await this.#sink?.sync();
      await this.#readRelay();
    } catch (error) {
      this.#refuse(
        error instanceof FerryError ? error : new FerryError('NETWORK_ERROR', 'The server could not be read.'),
      );
    }
  }

  /** Reads every unfinished file from the relay share, from its first missing record, into the sink. */
  async #readRelay(): Promise<void> {
    const relay = this.#hooks.relay;
    if (!relay || this.state !== 'relaying') return;
    const files = this.#ciphers.flatMap((cipher, file) => {
      const from = this.#verifiedRecords[file]!;
      return from < recordCount(cipher) ? [{ file, from }] : [];
    });
    this.#received = [...this.#verifiedRecords];
    try {
      await relay.read(
        files,
        (file, record, sealed) => this.#fromRelay(file, record, sealed),
        () => this.state !== 'relaying',
      );
    } catch (error) {
      this.#refuse(
        error instanceof FerryError ? error : new FerryError('NETWORK_ERROR', 'The server could not be read.'),
      );
    }
  }

  /** One record from the relay; waits while RELAY_WINDOW_BYTES are not yet verified. */
  async #fromRelay(file: number, record: number, sealed: Uint8Array<ArrayBuffer>): Promise<void> {
    const recordSize = this.#ciphers[file]?.recordSize ?? 0;
    await this.#waits.until(
      () =>
        (record - (this.#verifiedRecords[file] ?? 0)) * recordSize <= RELAY_WINDOW_BYTES || this.state !== 'relaying',
    );
    if (this.state !== 'relaying' || !this.#sink) return;
    if (this.#take(file, record, 1)) this.#sink.write(file, record, [sealed]);
  }

  #stopWaiting(): void {
    this.#waits.clear(this.#notBack);
    this.#notBack = undefined;
  }
}
