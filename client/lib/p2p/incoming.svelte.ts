/**
 * Receiving files from a nearby device. The offer carries the link secret and the sealed
 * manifest, exactly what a share link gives: the keys are derived and the manifest opened
 * and validated (shared/manifest.ts) before anything is shown. Once accepted, each record
 * goes to the OPFS writer worker, which verifies it, writes it and hashes the file as it
 * lands; every ACK_EVERY_BYTES of verified plaintext (and at each file's end) the sender
 * hears how many records are verified, which also paces it (its window). A finished file is
 * exported through the receive sinks (save picker, service-worker stream, or a Blob when
 * small) behind verifyingStream, so the whole-file BLAKE3 is checked again on the way out,
 * and its OPFS copy is deleted.
 *
 * When the channel drops while receiving, the transfer waits ("Reconnecting…"): a new
 * connection from the sender, authenticated with this transfer's secret, asks to `resume`
 * and hears how many records of each file are verified (after the writer has handled all
 * it was given). Meanwhile the recipient looks for the relay share derived from the secret;
 * when the sender switches to it, the records come from Ferry's server instead
 * (relay-download.ts), from the first record lacking, into the same writer. The secret is
 * held in memory only, for as long as the transfer is unfinished.
 */
import { fromBase64Url } from '../../../shared/encoding.ts';
import { FerryError } from '../../../shared/errors.ts';
import { deriveShareKeys, relayShareId } from '../../../shared/keys.ts';
import { fileCipher, type Manifest, openManifest } from '../../../shared/manifest.ts';
import { type ControlMessage, type ControlMessageOf, decodeFrame, frameRefusal } from '../../../shared/p2p/frames.ts';
import { RELAY_WAIT_MS } from '../../../shared/p2p/relay.ts';
import { type FileCipher, plainRange, recordCount } from '../../../shared/records.ts';
import { attention } from '../pwa/attention.ts';
import { noteReceived, receivedRecord } from '../store/received.ts';
import { createBlake3 } from '../transfer/blake3.ts';
import { fileFailure } from '../transfer/receive/receive-errors.ts';
import { chooseTarget } from '../transfer/receive/sinks.ts';
import { verifyingStream } from '../transfer/receive/verify-stream.ts';
import { SpeedMeter, secondsLeft } from '../transfer/send/progress.ts';
import { receivedPath } from './opfs-dir.ts';
import { OpfsWriter, receivedFile, removeReceived } from './opfs-files.ts';
import { deleteProgress, ProgressLog } from './p2p-db.ts';
import type { PeerLink, Route } from './peer-link.ts';
import { readFromRelay, relayTicket, waitForRelayShare } from './relay-download.ts';

/** Acknowledge verified records at least this often (plaintext bytes). */
export const ACK_EVERY_BYTES = 2 * 1024 * 1024;
/** Records fetched from the relay but not yet verified, at most (like the sender's window). */
const RELAY_WINDOW_BYTES = 16 * 1024 * 1024;

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
  #link: PeerLink | null;
  #relayed = $state(false);
  #resumes = $state(0);
  /** The transfer's secret: keys a reconnection's MAC and the relay share. */
  #secret: Uint8Array<ArrayBuffer> | null = null;
  /** Records verified per file (a prefix: the writer takes them strictly in order). */
  #verifiedRecords: number[] = [];
  #verifiedWaiter: (() => void) | null = null;
  /** Counts the drops, so that only the watch started by the latest one may act. */
  #drops = 0;
  readonly #meter = new SpeedMeter();
  readonly #progress = new ProgressLog();
  #manifest: Manifest | null = null;
  #ciphers: FileCipher[] = [];
  #writer: OpfsWriter | null = null;
  #opened = -1;
  #perFile: number[] = [];
  #lastAck: number[] = [];
  #exports: Promise<void> = Promise.resolve();
  /** For an offer that came sealed through the server (no data channel): sends the sealed answer. */
  readonly #reply: ((accept: boolean) => void) | null;
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
    this.#onAccept = onAccept;
    this.id = offer.transfer;
    this.peerId = peerId;
    this.#link = link;
    this.#reply = reply;
    this.peerName = peerName;
    this.code = code;
    void this.#open(offer);
  }

  /** Whether the offer came through the server because no direct connection could be made. */
  get offline(): boolean {
    return this.#reply !== null;
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
    return this.#phase === 'reconnecting' ? this.#secret : null;
  }

  async #open(offer: ControlMessageOf<'offer'>): Promise<void> {
    try {
      this.#secret = fromBase64Url(offer.secret);
      const keys = await deriveShareKeys(this.#secret);
      const manifest = await openManifest(offer.manifest, keys.metaKey);
      if (manifest.files.some((f) => f.blake3 === null)) {
        throw new FerryError('MANIFEST_INVALID', 'The offer lacks the files’ hashes.');
      }
      // Derived now, so that opening a file in the writer is synchronous with its first record.
      this.#ciphers = await Promise.all(manifest.files.map((f) => fileCipher(f, keys.contentKey)));
      this.#manifest = manifest;
      this.#files = manifest.files.map((f) => ({ name: f.name, size: f.size, save: 'waiting' }));
      this.#perFile = manifest.files.map(() => 0);
      this.#verifiedRecords = manifest.files.map(() => 0);
      this.#lastAck = manifest.files.map(() => 0);
      this.#phase = 'offered';
      const count = manifest.files.length === 1 ? 'a file' : `${manifest.files.length} files`;
      void attention.notify('Files offered nearby', `${this.peerName} wants to send you ${count}.`);
    } catch (error) {
      this.#refuse(
        error instanceof FerryError ? error : new FerryError('MANIFEST_INVALID', 'The offer was not valid.'),
      );
    }
  }

  accept(): void {
    if (this.#phase !== 'offered') return;
    this.#writer = new OpfsWriter(
      (file, verified) => this.#onVerified(file, verified),
      (error) => this.#refuse(error),
    );
    attention.running(this, true);
    this.#onAccept();
    if (this.#reply) {
      this.#phase = 'relaying';
      this.#relayed = true;
      this.#reply(true);
      void this.#fromRelay();
      return;
    }
    this.#phase = 'receiving';
    this.#link?.sendControl({ type: 'answer', transfer: this.id, accept: true });
    void this.#link?.route().then((route) => {
      this.#route = route;
    });
  }

  decline(): void {
    if (this.#phase !== 'offered') return;
    this.#phase = 'declined';
    this.#reply?.(false);
    this.#link?.sendControl({ type: 'answer', transfer: this.id, accept: false });
  }

  /** Saves a finished file where the user chooses (needs this click: the save picker). */
  save(index: number): void {
    void this.#export(index, true);
  }

  onControl(message: ControlMessage): void {
    if (message.type === 'cancel' && message.transfer === this.id)
      this.fail(new FerryError(message.code, message.message));
  }

  /** One binary frame from the link (its buffer goes to the writer worker: this transfer owns it). */
  onBinary(bytes: Uint8Array<ArrayBuffer>): void {
    if (this.#phase !== 'receiving' || !this.#writer || !this.#manifest) return;
    const frame = decodeFrame(bytes);
    if (!frame.ok) {
      this.#refuse(frameRefusal(frame));
      return;
    }
    if (!this.#manifest.files[frame.file] || frame.file < this.#opened) {
      this.#refuse(new FerryError('INVALID_MESSAGE', 'The sender sent data that does not belong to this transfer.'));
      return;
    }
    while (this.#opened < frame.file) this.#openFile(++this.#opened);
    this.#writer.writeFrame(frame.file, frame.first, frame.records);
  }

  /**
   * The link is gone. While receiving, the transfer waits for the sender to come back or
   * to switch to the relay (and looks for the relay share meanwhile); after every record
   * arrived nothing is lost; otherwise it fails.
   */
  linkLost(error: FerryError, link: PeerLink): void {
    if (link !== this.#link) return;
    if (this.#phase === 'receiving') {
      this.#phase = 'reconnecting';
      this.#link = null;
      void this.#watchRelay(++this.#drops);
    } else if (this.#phase !== 'reconnecting' && this.#phase !== 'relaying' && this.#phase !== 'saving') {
      this.fail(error);
    }
  }

  /**
   * A new link from the sender, authenticated with this transfer's secret, asks to resume:
   * once the writer has handled every record it was given, the sender hears how many of
   * each file are verified (`resume-at`) and sends on from there. A transfer that already
   * has everything says so and repeats `complete`.
   */
  async resumeOn(link: PeerLink): Promise<void> {
    const finished = this.#phase === 'saving' || this.#phase === 'done';
    if (!finished && this.#phase !== 'reconnecting') return;
    if (!finished) await this.#writer?.sync();
    if (!finished && this.#phase !== 'reconnecting') return;
    this.#link = link;
    link.sendControl({ type: 'resume-at', transfer: this.id, files: [...this.#verifiedRecords] });
    if (finished) {
      link.sendControl({ type: 'complete', transfer: this.id });
      return;
    }
    this.#phase = 'receiving';
    this.#resumes++;
    void link.route().then((route) => {
      this.#route = route;
    });
  }

  /** The connection is gone or the sender cancelled. */
  fail(error: FerryError): void {
    if (!this.active) return;
    const receiving = ['receiving', 'reconnecting', 'relaying'].includes(this.#phase);
    this.#phase = 'failed';
    this.#error = error.message;
    this.#verifiedWaiter?.();
    this.#writer?.dispose();
    attention.running(this, false);
    if (receiving) void attention.notify('Nearby transfer failed', 'Open Ferry to see what went wrong.');
  }

  dispose(): void {
    this.#writer?.dispose();
    attention.running(this, false);
  }

  #openFile(index: number): void {
    const file = this.#manifest!.files[index]!;
    const writer = this.#writer!;
    const path = this.#path(index);
    // Each file's verdict goes to the history of received files (name and device, no key).
    const note = (failure: string | null) =>
      noteReceived(receivedRecord({ kind: 'nearby', device: this.peerName }, this.id, index, file, failure));
    writer.open(index, path, this.#ciphers[index]!, file.blake3!).then(
      () => {
        note(null);
        this.#exports = this.#exports.then(() =>
          needsClickToSave() ? this.#setSave(index, 'ready') : this.#export(index, false),
        );
        if (index === this.#files.length - 1) void this.#exports.then(() => this.#finish());
      },
      (error: unknown) => {
        note(fileFailure(file.name, error));
        this.#refuse(error instanceof FerryError ? error : new FerryError('STORAGE_FAILED', String(error)));
      },
    );
  }

  #path(index: number): string {
    return receivedPath(this.id, index);
  }

  #setSave(index: number, save: SaveState): void {
    this.#files = this.#files.map((f, i) => (i === index ? { ...f, save } : f));
  }

  async #export(index: number, clicked: boolean): Promise<void> {
    const file = this.#manifest?.files[index];
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

  #finish(): void {
    // Also while reconnecting: every record is in, so nothing more is needed from anyone.
    if (!['receiving', 'reconnecting', 'relaying'].includes(this.#phase)) return;
    this.#send({ type: 'complete', transfer: this.id });
    this.#phase = this.#files.every((f) => f.save === 'saved') ? 'done' : 'saving';
    attention.running(this, false);
    void attention.notify('Files received', 'Everything arrived and was verified.');
    void deleteProgress(this.id).catch(() => {});
  }

  #onVerified(index: number, verifiedRecords: number): void {
    const file = this.#manifest?.files[index];
    if (!file || !['receiving', 'reconnecting', 'relaying'].includes(this.#phase)) return;
    this.#verifiedRecords[index] = verifiedRecords;
    this.#verifiedWaiter?.();
    const bytes = plainRange(file, verifiedRecords - 1)[1];
    this.#perFile[index] = bytes;
    this.#verified = this.#perFile.reduce((a, b) => a + b, 0);
    this.#meter.sample(performance.now(), this.#verified);
    this.#speed = this.#meter.bytesPerSecond();
    const last = verifiedRecords === recordCount(file);
    if (last || bytes - this.#lastAck[index]! >= ACK_EVERY_BYTES) {
      this.#lastAck[index] = bytes;
      this.#send({ type: 'ack', transfer: this.id, file: index, verified: verifiedRecords });
      this.#progress.note({
        transfer: this.id,
        file: index,
        verified: verifiedRecords,
        records: recordCount(file),
        role: 'recipient',
      });
    }
  }

  #refuse(error: FerryError): void {
    if (!this.active) return;
    this.#send({ type: 'cancel', transfer: this.id, code: error.code, message: error.message.slice(0, 500) });
    this.fail(error);
    for (let i = 0; i <= this.#opened; i++) void removeReceived(this.#path(i));
  }

  /** Tells the sender, if a link is up (through the relay nobody listens). */
  #send(message: ControlMessage): void {
    try {
      if (this.#link?.connected) this.#link.sendControl(message);
    } catch {
      // The connection is already gone.
    }
  }

  /**
   * While reconnecting: looks for the relay share; when the sender switches to it, fetches
   * every unfinished file from its first missing record into the writer, which verifies
   * them as it did the peer's. Fails when neither the peer nor the relay comes.
   */
  async #watchRelay(drop: number): Promise<void> {
    const secret = this.#secret;
    if (!secret || !this.#writer || !this.#manifest) return;
    try {
      const shareId = await relayShareId(secret);
      const waiting = () => this.#phase === 'reconnecting' && drop === this.#drops;
      const found = await waitForRelayShare(shareId, Date.now() + RELAY_WAIT_MS, () => !waiting());
      if (!waiting()) return;
      if (!found) {
        throw new FerryError(
          'NETWORK_ERROR',
          'The other device did not come back, and nothing arrived through the server.',
        );
      }
      this.#phase = 'relaying';
      this.#relayed = true;
      // Whatever the channel delivered is written first, so the relay starts where it ended.
      await this.#writer.sync();
      await this.#readRelay(secret, shareId);
    } catch (error) {
      this.#relayFailed(error);
    }
  }

  /** An offer that came through the server: every file from the relay share, from record 0. */
  async #fromRelay(): Promise<void> {
    try {
      if (!this.#secret) throw new FerryError('NETWORK_ERROR', 'The server could not be read.');
      await this.#readRelay(this.#secret, await relayShareId(this.#secret));
    } catch (error) {
      this.#relayFailed(error);
    }
  }

  /** Fetches every unfinished file from its first missing record into the writer. */
  async #readRelay(secret: Uint8Array<ArrayBuffer>, shareId: string): Promise<void> {
    const manifest = this.#manifest;
    if (!manifest) return;
    const readerToken = (await deriveShareKeys(secret)).readerToken;
    const pending = this.#ciphers.flatMap((c, i) => (this.#verifiedRecords[i]! < recordCount(c) ? [i] : []));
    if (pending.length === 0) return;
    const ticket = await relayTicket(shareId, readerToken, pending);
    for (const index of pending) {
      while (this.#opened < index) this.#openFile(++this.#opened);
      await readFromRelay({
        shareId,
        readerToken,
        ticket,
        index,
        layout: this.#ciphers[index]!,
        name: manifest.files[index]!.name,
        from: this.#verifiedRecords[index]!,
        onRecord: (record, sealed) => this.#writeRelayed(index, record, sealed),
        stopped: () => this.#phase !== 'relaying',
      });
    }
  }

  #relayFailed(error: unknown): void {
    if (error instanceof FerryError && error.code === 'SHARE_REVOKED') {
      this.#refuse(new FerryError('ABORTED', `${this.peerName} stopped the transfer.`));
    } else {
      this.#refuse(
        error instanceof FerryError ? error : new FerryError('NETWORK_ERROR', 'The server could not be read.'),
      );
    }
  }

  /** One record from the relay; waits while RELAY_WINDOW_BYTES are not yet verified. */
  async #writeRelayed(index: number, record: number, sealed: Uint8Array<ArrayBuffer>): Promise<void> {
    const recordSize = this.#ciphers[index]!.recordSize;
    while ((record - this.#verifiedRecords[index]!) * recordSize > RELAY_WINDOW_BYTES && this.#phase === 'relaying') {
      await new Promise<void>((resolve) => {
        this.#verifiedWaiter = resolve;
      });
    }
    this.#writer?.write(index, record, sealed);
  }
}
