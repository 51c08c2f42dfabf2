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
 */
import { createBLAKE3 } from 'hash-wasm';
import { fromBase64Url } from '../../../shared/encoding.ts';
import { FerryError } from '../../../shared/errors.ts';
import { deriveShareKeys } from '../../../shared/keys.ts';
import { fileCipher, type Manifest, openManifest } from '../../../shared/manifest.ts';
import { type ControlMessage, type ControlMessageOf, decodeRecordFrame } from '../../../shared/p2p.ts';
import { type FileCipher, plainRange, recordCount } from '../../../shared/records.ts';
import { attention } from '../pwa/attention.ts';
import { noteReceived, receivedRecord } from '../store/received.ts';
import { fileFailure } from '../transfer/receive/receive-errors.ts';
import { chooseTarget } from '../transfer/receive/sinks.ts';
import { verifyingStream } from '../transfer/receive/verify-stream.ts';
import { SpeedMeter, secondsLeft } from '../transfer/send/progress.ts';
import { OpfsWriter, receivedFile, removeReceived } from './opfs-files.ts';
import { deleteProgress, putProgress } from './p2p-db.ts';
import type { PeerLink, Route } from './peer-link.ts';

/** Acknowledge verified records at least this often (plaintext bytes). */
export const ACK_EVERY_BYTES = 2 * 1024 * 1024;

export type IncomingPhase = 'opening' | 'offered' | 'receiving' | 'saving' | 'done' | 'declined' | 'failed';
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
  readonly #link: PeerLink;
  readonly #meter = new SpeedMeter();
  #manifest: Manifest | null = null;
  #ciphers: FileCipher[] = [];
  #writer: OpfsWriter | null = null;
  #opened = -1;
  #perFile: number[] = [];
  #lastAck: number[] = [];
  #exports: Promise<void> = Promise.resolve();

  constructor(link: PeerLink, peerId: string, peerName: string, code: string | null, offer: ControlMessageOf<'offer'>) {
    this.id = offer.transfer;
    this.peerId = peerId;
    this.#link = link;
    this.peerName = peerName;
    this.code = code;
    void this.#open(offer);
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

  async #open(offer: ControlMessageOf<'offer'>): Promise<void> {
    try {
      const keys = await deriveShareKeys(fromBase64Url(offer.secret));
      const manifest = await openManifest(offer.manifest, keys.metaKey);
      if (manifest.files.some((f) => f.blake3 === null)) {
        throw new FerryError('MANIFEST_INVALID', 'The offer lacks the files’ hashes.');
      }
      // Derived now, so that opening a file in the writer is synchronous with its first record.
      this.#ciphers = await Promise.all(manifest.files.map((f) => fileCipher(f, keys.contentKey)));
      this.#manifest = manifest;
      this.#files = manifest.files.map((f) => ({ name: f.name, size: f.size, save: 'waiting' }));
      this.#perFile = manifest.files.map(() => 0);
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
    this.#phase = 'receiving';
    attention.running(this, true);
    this.#link.sendControl({ type: 'answer', transfer: this.id, accept: true });
    void this.#link.route().then((route) => {
      this.#route = route;
    });
  }

  decline(): void {
    if (this.#phase !== 'offered') return;
    this.#phase = 'declined';
    this.#link.sendControl({ type: 'answer', transfer: this.id, accept: false });
  }

  /** Saves a finished file where the user chooses (needs this click: the save picker). */
  save(index: number): void {
    void this.#export(index, true);
  }

  onControl(message: ControlMessage): void {
    if (message.type === 'cancel' && message.transfer === this.id)
      this.fail(new FerryError(message.code, message.message));
  }

  /** One binary frame from the link. */
  onBinary(bytes: Uint8Array<ArrayBuffer>): void {
    if (this.#phase !== 'receiving' || !this.#writer || !this.#manifest) return;
    const frame = decodeRecordFrame(bytes);
    const file = frame && this.#manifest.files[frame.file];
    if (!frame || !file || frame.file < this.#opened) {
      this.#refuse(new FerryError('INVALID_MESSAGE', 'The sender sent data that does not belong to this transfer.'));
      return;
    }
    while (this.#opened < frame.file) this.#openFile(++this.#opened);
    this.#writer.write(frame.file, frame.record, bytes.slice(frame.bytes.byteOffset - bytes.byteOffset));
  }

  /** The connection is gone or the sender cancelled. */
  fail(error: FerryError): void {
    if (!this.active) return;
    const receiving = this.#phase === 'receiving';
    this.#phase = 'failed';
    this.#error = error.message;
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
    return `${this.id}-${index}`;
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
      const source = await receivedFile(this.#path(index));
      await target.save(source.stream().pipeThrough(verifyingStream(createBLAKE3(), file.blake3, file.name)));
      this.#setSave(index, 'saved');
      await removeReceived(this.#path(index));
      if (clicked && this.#files.every((f) => f.save === 'saved')) this.#phase = 'done';
    } catch (error) {
      this.#setSave(index, 'failed');
      this.#error = error instanceof FerryError ? error.message : 'The file could not be saved.';
    }
  }

  #finish(): void {
    if (this.#phase !== 'receiving') return;
    this.#link.sendControl({ type: 'complete', transfer: this.id });
    this.#phase = this.#files.every((f) => f.save === 'saved') ? 'done' : 'saving';
    attention.running(this, false);
    void attention.notify('Files received', 'Everything arrived and was verified.');
    void deleteProgress(this.id).catch(() => {});
  }

  #onVerified(index: number, verifiedRecords: number): void {
    const file = this.#manifest?.files[index];
    if (!file || this.#phase !== 'receiving') return;
    const bytes = plainRange(file, verifiedRecords - 1)[1];
    this.#perFile[index] = bytes;
    this.#verified = this.#perFile.reduce((a, b) => a + b, 0);
    this.#meter.sample(performance.now(), this.#verified);
    this.#speed = this.#meter.bytesPerSecond();
    const last = verifiedRecords === recordCount(file);
    if (last || bytes - this.#lastAck[index]! >= ACK_EVERY_BYTES) {
      this.#lastAck[index] = bytes;
      this.#link.sendControl({ type: 'ack', transfer: this.id, file: index, verified: verifiedRecords });
      void putProgress({
        transfer: this.id,
        file: index,
        verified: verifiedRecords,
        records: recordCount(file),
        role: 'recipient',
        updatedAt: Date.now(),
      }).catch(() => {});
    }
  }

  #refuse(error: FerryError): void {
    if (!this.active) return;
    try {
      this.#link.sendControl({
        type: 'cancel',
        transfer: this.id,
        code: error.code,
        message: error.message.slice(0, 500),
      });
    } catch {
      // The connection is already gone.
    }
    this.fail(error);
    for (let i = 0; i <= this.#opened; i++) void removeReceived(this.#path(i));
  }
}
