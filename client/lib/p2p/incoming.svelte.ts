/**
 * Receiving files from a nearby device: the page's side of a transfer. The engine's
 * ReceiverSession (shared/p2p/receiver-session.ts: its transition table, acknowledgements,
 * resume and relay fallback) opens the offer, takes the records and tells the sender; this
 * class gives it the OPFS writer worker as its sink (opfs-sink.ts: each record verified,
 * written and hashed off the page's thread) and the relay route (shared/p2p/relay-read.ts,
 * against the page's own server), mirrors its state into runes and saves each finished file.
 *
 * A finished file is exported through the receive sinks (save picker, service-worker
 * stream, or a Blob when small) behind verifyingStream, so the whole-file BLAKE3 is checked
 * again on the way out, and its OPFS copy is deleted. The session sends `complete` only
 * once every file was handed to its saving (or, with the save picker, waits for a click).
 * The secret is held in memory only, for as long as the transfer is unfinished.
 */

import { FerryError } from '../../../shared/errors.ts';
import { verifyingStream } from '../../../shared/file-hash.ts';
import type { ControlMessage, ControlMessageOf } from '../../../shared/p2p/frames.ts';
import { type ReceiverOutcome, ReceiverSession, type ReceiverState } from '../../../shared/p2p/receiver-session.ts';
import { relayRoute } from '../../../shared/p2p/relay-read.ts';
import { recordCount } from '../../../shared/records.ts';
import { attention } from '../pwa/attention.ts';
import { noteReceived, receivedRecord } from '../store/received.ts';
import { createBlake3 } from '../transfer/blake3.ts';
import { fileFailure } from '../transfer/receive/receive-errors.ts';
import { chooseTarget } from '../transfer/receive/sinks.ts';
import { SpeedMeter, secondsLeft } from '../transfer/send/progress.ts';
import { receivedPath } from './opfs-dir.ts';
import { receivedFile, removeReceived } from './opfs-files.ts';
import { OpfsSink } from './opfs-sink.ts';
import { deleteProgress, ProgressLog } from './p2p-db.ts';
import type { PeerLink, Route } from './peer-link.ts';

export type IncomingPhase =
  | 'opening'
  | 'offered'
  | 'receiving'
  | 'reconnecting'
  | 'relaying'
  | 'saving'
  | 'done'
  | 'declined'
  | 'failed';
export type SaveState = 'waiting' | 'ready' | 'saving' | 'saved' | 'failed';

export interface IncomingFile {
  name: string;
  size: number;
  save: SaveState;
}

/** The session's states as the offer shows them (`done`: `saving` until every file is saved). */
const PHASE_OF: Record<Exclude<ReceiverState, 'done'>, IncomingPhase> = {
  opening: 'opening',
  offered: 'offered',
  receiving: 'receiving',
  reconnecting: 'reconnecting',
  relaying: 'relaying',
  declined: 'declined',
  failed: 'failed',
  // Only this page cancels (it went away): nobody is left to show it to.
  cancelled: 'failed',
};

const RECEIVING: readonly IncomingPhase[] = ['receiving', 'reconnecting', 'relaying'];

/** Whether saving needs a click (the File System Access picker wants a user gesture). */
function needsClickToSave(): boolean {
  return typeof (globalThis as { showSaveFilePicker?: unknown }).showSaveFilePicker === 'function';
}

export class IncomingTransfer {
  readonly id: string;
  readonly peerId: string;
  readonly peerName: string;
  readonly code: string | null;
  #phase = $state<IncomingPhase>('opening');
  #error = $state<string | null>(null);
  #files = $state<IncomingFile[]>([]);
  #verified = $state(0);
  #speed = $state(0);
  #route = $state<Route | null>(null);
  #relayed = $state(false);
  #resumes = $state(0);
  #link: PeerLink | null;
  readonly #session: ReceiverSession;
  readonly #meter = new SpeedMeter();
  readonly #progress = new ProgressLog();
  /** For an offer that came sealed through the server (no data channel): sends the sealed answer. */
  readonly #offline: boolean;
  /** Told when the person accepts (they compared the code shown, if any). */
  readonly #onAccept: () => void;

  /**
   * `link` null: the offer came sealed through the server from a paired device with no
   * data channel (nearby.svelte.ts), the manifest read from the relay share, and `reply`
   * carries the answer back; the records then come from the relay share alone. `code`:
   * the verification code the person compares before accepting, null when nothing is to be
   * compared (MAC mode, or already compared on this connection).
   */
  constructor(
    link: PeerLink | null,
    peerId: string,
    peerName: string,
    code: string | null,
    offer: ControlMessageOf<'offer'>,
    reply: ((accept: boolean) => void) | null = null,
    onAccept: () => void = () => {},
  ) {
    this.id = offer.transfer;
    this.peerId = peerId;
    this.peerName = peerName;
    this.code = code;
    this.#link = link;
    this.#offline = reply !== null;
    this.#onAccept = onAccept;
    this.#session = new ReceiverSession(offer, link, (events) => new OpfsSink(offer.transfer, events), {
      onState: (state) => this.#onState(state),
      onVerified: (_file, _records, verified) => this.#progressTo(verified),
      onAck: (file, records) => this.#onAck(file, records),
      onFile: (file, failure) => this.#onFile(file, failure),
      // The records go to the writer worker, which takes each buffer whole.
      relay: relayRoute(() => this.#session, { peerName, ownBuffers: true }),
      ...(reply ? { reply } : {}),
      onSettle: (outcome) => this.#onSettle(outcome),
    });
  }

  /** Whether the offer came through the server because no direct connection could be made. */
  get offline(): boolean {
    return this.#offline;
  }
  get phase(): IncomingPhase {
    return this.#phase;
  }
  get error(): string | null {
    return this.#error;
  }
  get files(): readonly IncomingFile[] {
    return this.#files;
  }
  get total(): number {
    return this.#files.reduce((sum, f) => sum + f.size, 0);
  }
  get verified(): number {
    return this.#verified;
  }
  get bytesPerSecond(): number {
    return this.#speed;
  }
  get secondsLeft(): number | null {
    return secondsLeft(this.total - this.#verified, this.#speed);
  }
  get route(): Route | null {
    return this.#route;
  }
  get active(): boolean {
    return !['done', 'declined', 'failed'].includes(this.#phase);
  }
  /** Whether the rest came through Ferry's server after the direct connection was lost. */
  get relayed(): boolean {
    return this.#relayed;
  }
  /** How many times the transfer continued on a new connection. */
  get resumes(): number {
    return this.#resumes;
  }
  /** The transfer's secret while it can still resume: it keys the reconnection's MAC. */
  get resumeSecret(): Uint8Array<ArrayBuffer> | null {
    return this.#session.resumeSecret;
  }

  accept(): void {
    if (this.#session.state !== 'offered') return;
    attention.running(this, true);
    this.#onAccept();
    this.#session.accept();
  }

  decline(): void {
    this.#session.decline();
  }

  /** Saves a finished file where the user chooses (needs this click: the save picker). */
  save(index: number): void {
    void this.#export(index, true);
  }

  onControl(message: ControlMessage): void {
    this.#session.onControl(message);
  }

  /** One binary frame from the link (its buffer goes to the writer worker: this transfer owns it). */
  onBinary(bytes: Uint8Array<ArrayBuffer>): void {
    this.#session.onFrame(bytes);
  }

  /**
   * The link is gone. While receiving, the transfer waits for the sender to come back or
   * to switch to the relay (and looks for the relay share meanwhile); after every record
   * arrived nothing is lost; otherwise it fails.
   */
  linkLost(error: FerryError, link: PeerLink): void {
    this.#session.channelLost(error, link);
  }

  /**
   * A new link from the sender, authenticated with this transfer's secret, asks to resume
   * (the session answers how many records of each file are verified); a transfer that
   * already has everything says so and repeats `complete`.
   */
  async resumeOn(link: PeerLink): Promise<void> {
    if (this.#session.state === 'reconnecting') this.#link = link;
    await this.#session.resumeOn(link);
  }

  /** The connection is gone or the sender cancelled. */
  fail(error: FerryError): void {
    this.#session.fail(error);
  }

  dispose(): void {
    this.#session.cancel();
    attention.running(this, false);
  }

  #onState(state: ReceiverState): void {
    const from = this.#phase;
    if (state === 'done') {
      this.#phase = this.#files.every((f) => f.save === 'saved') ? 'done' : 'saving';
      return;
    }
    this.#phase = PHASE_OF[state];
    if (state === 'offered') this.#onOffered();
    if (state === 'receiving') {
      if (from === 'reconnecting') this.#resumes++;
      const link = this.#link;
      void link?.route().then((route) => {
        if (this.#link === link) this.#route = route;
      });
    }
    if (state === 'relaying') this.#relayed = true;
    if (state === 'failed' && RECEIVING.includes(from)) {
      void attention.notify('Nearby transfer failed', 'Open Ferry to see what went wrong.');
    }
  }

  #onOffered(): void {
    const files = this.#session.manifest?.files ?? [];
    this.#files = files.map((f) => ({ name: f.name, size: f.size, save: 'waiting' }));
    const count = files.length === 1 ? 'a file' : `${files.length} files`;
    void attention.notify('Files offered nearby', `${this.peerName} wants to send you ${count}.`);
  }

  #onSettle(outcome: ReceiverOutcome): void {
    attention.running(this, false);
    if (outcome.state === 'failed') this.#error = outcome.error.message;
    if (outcome.state === 'done') {
      void attention.notify('Files received', 'Everything arrived and was verified.');
      void deleteProgress(this.id).catch(() => {});
    }
  }

  /**
   * File `index` was verified whole (then saved, or offered for saving with a click) or
   * failed; either way its verdict goes to the history of received files (name and device,
   * no key).
   */
  async #onFile(index: number, failure: FerryError | null): Promise<void> {
    const file = this.#session.manifest?.files[index];
    if (!file) return;
    noteReceived(
      receivedRecord(
        { kind: 'nearby', device: this.peerName },
        this.id,
        index,
        file,
        failure ? fileFailure(file.name, failure) : null,
      ),
    );
    if (failure) return;
    if (needsClickToSave()) this.#setSave(index, 'ready');
    else await this.#export(index, false);
  }

  #path(index: number): string {
    return receivedPath(this.id, index);
  }

  #setSave(index: number, save: SaveState): void {
    this.#files = this.#files.map((f, i) => (i === index ? { ...f, save } : f));
  }

  async #export(index: number, clicked: boolean): Promise<void> {
    const file = this.#session.manifest?.files[index];
    if (!file?.blake3) return;
    try {
      // With the save picker this runs straight from the click (user activation).
      const target = await chooseTarget(file.name, file.size, 'file');
      if (!target) return;
      this.#setSave(index, 'saving');
      if (target.kind === 'service-worker-fetch') {
        // The page cannot hand the service worker a stream: it reads the stored file itself.
        await target.stored({ folder: 'received', path: this.#path(index), blake3: file.blake3 });
      } else {
        const source = await receivedFile(this.#path(index));
        await target.save(source.stream().pipeThrough(verifyingStream(createBlake3(), file.blake3, file.name)));
      }
      this.#setSave(index, 'saved');
      await removeReceived(this.#path(index));
      if (clicked && this.#files.every((f) => f.save === 'saved')) this.#phase = 'done';
    } catch (error) {
      this.#setSave(index, 'failed');
      this.#error = error instanceof FerryError ? error.message : 'The file could not be saved.';
    }
  }

  #onAck(file: number, records: number): void {
    const cipher = this.#session.ciphers[file];
    if (!cipher) return;
    this.#progress.note({
      transfer: this.id,
      file,
      verified: records,
      records: recordCount(cipher),
      role: 'recipient',
    });
  }

  #progressTo(verified: number): void {
    this.#verified = verified;
    this.#meter.sample(performance.now(), verified);
    this.#speed = this.#meter.bytesPerSecond();
  }
}
