/**
 * Sending files to one nearby device. The share is planned exactly like a link send
 * (send/share-plan.ts: fresh secret, keys, one nonce base per file, the same manifest and
 * record format), but nothing is created on the server and tus never starts: after the
 * files are hashed (BLAKE3, in the hash worker) the secret and the sealed manifest go to
 * the other device over the authenticated data channel, and the records follow, each in
 * its own frame (shared/p2p.ts).
 *
 * Flow control has two layers: the channel's buffer (PeerLink.sendFrame, 1/4 MiB marks),
 * and a window of SEND_WINDOW_BYTES of records sent but not yet acknowledged as verified
 * by the recipient, which bounds what the recipient can have queued in memory.
 */
import { toBase64Url } from '../../../shared/encoding.ts';
import { FerryError } from '../../../shared/errors.ts';
import { deriveFileKey } from '../../../shared/keys.ts';
import { DEFAULT_EXPIRY_SECONDS, TAG_SIZE } from '../../../shared/limits.ts';
import { sealManifest } from '../../../shared/manifest.ts';
import { type ControlMessage, encodeRecordFrame, FRAME_HEADER_BYTES } from '../../../shared/p2p.ts';
import { encryptRecord, type FileCipher, plainRange, recordCount } from '../../../shared/records.ts';
import { attention } from '../pwa/attention.ts';
import { Hasher } from '../transfer/hash/hasher.ts';
import { shareNames } from '../transfer/send/names.ts';
import { SpeedMeter, secondsLeft } from '../transfer/send/progress.ts';
import { manifestOf, nonceOf, planShare } from '../transfer/send/share-plan.ts';
import { deleteProgress, putProgress } from './p2p-db.ts';
import type { PeerLink, Route } from './peer-link.ts';

/** Records sent but not yet verified by the recipient, at most. */
export const SEND_WINDOW_BYTES = 16 * 1024 * 1024;
/** Plaintext read from the file at once (16 records of 64 KiB). */
const READ_BYTES = 1024 * 1024;

export type OutgoingPhase =
  | 'connecting'
  | 'preparing'
  | 'confirm'
  | 'waiting'
  | 'sending'
  | 'done'
  | 'declined'
  | 'failed'
  | 'cancelled';

export interface OutgoingFile {
  name: string;
  size: number;
}

export class OutgoingTransfer {
  readonly id = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  readonly peerName: string;
  readonly files: OutgoingFile[];
  readonly total: number;
  #phase = $state<OutgoingPhase>('connecting');
  #error = $state<string | null>(null);
  #verified = $state(0);
  #speed = $state(0);
  #route = $state<Route | null>(null);
  readonly #source: File[];
  readonly #meter = new SpeedMeter();
  #acked: number[];
  #recordSizes: number[] = [];
  /** Plaintext bytes whose records were handed to the channel. */
  #sent = 0;
  #link: PeerLink | null = null;
  #answer: ((accept: boolean) => void) | null = null;
  #complete: (() => void) | null = null;
  #ackWaiter: (() => void) | null = null;
  #abort: FerryError | null = null;

  constructor(peerName: string, files: File[]) {
    this.peerName = peerName;
    this.#source = files;
    const names = shareNames(files.map((f) => ({ name: f.name })));
    this.files = files.map((f, i) => ({ name: names[i]!, size: f.size }));
    this.total = files.reduce((sum, f) => sum + f.size, 0);
    this.#acked = files.map(() => 0);
  }

  get phase(): OutgoingPhase {
    return this.#phase;
  }
  get error(): string | null {
    return this.#error;
  }
  /** Plaintext bytes the recipient has verified. */
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
    return !['done', 'declined', 'failed', 'cancelled'].includes(this.#phase);
  }

  /** The link is open; `confirmed` resolves once the people compared codes (or the MAC verified). */
  async run(link: PeerLink, confirmed: Promise<void>): Promise<void> {
    this.#link = link;
    try {
      this.#phase = 'preparing';
      const { secret, keys, files } = await planShare(
        this.#source.map((file, i) => ({ file, name: this.files[i]!.name })),
        { expiresInSeconds: DEFAULT_EXPIRY_SECONDS, maxDownloads: null, password: '' },
      );
      this.#recordSizes = files.map((f) => f.recordSize);
      const hasher = new Hasher();
      try {
        for (const [i, file] of files.entries()) file.blake3 = await hasher.hash(this.#source[i]!);
      } finally {
        hasher.abort();
      }
      const manifest = await sealManifest(manifestOf(files), keys.metaKey);
      this.#check();
      this.#phase = 'confirm';
      await confirmed;
      this.#check();
      this.#phase = 'waiting';
      const answer = new Promise<boolean>((resolve) => {
        this.#answer = resolve;
      });
      link.sendControl({ type: 'offer', transfer: this.id, secret: toBase64Url(secret), manifest });
      if (!(await answer)) {
        this.#phase = 'declined';
        return;
      }
      this.#check();
      this.#phase = 'sending';
      attention.running(this, true);
      void link.route().then((route) => {
        this.#route = route;
      });
      const completed = new Promise<void>((resolve) => {
        this.#complete = resolve;
      });
      for (const [i, file] of files.entries()) {
        const cipher: FileCipher = {
          name: file.name,
          size: file.size,
          recordSize: file.recordSize,
          nonceBase: nonceOf(file),
          key: await deriveFileKey(keys.contentKey, nonceOf(file)),
        };
        if (cipher.recordSize + TAG_SIZE + FRAME_HEADER_BYTES > link.maxMessageSize) {
          throw new FerryError('TOO_LARGE', 'The other browser takes messages too small for Ferry’s records.');
        }
        await this.#sendFile(link, i, this.#source[i]!, cipher);
      }
      await completed;
      this.#check();
      this.#phase = 'done';
      void deleteProgress(this.id).catch(() => {});
    } catch (error) {
      if (this.#phase === 'cancelled') return;
      this.#phase = 'failed';
      this.#error = error instanceof FerryError ? error.message : 'The transfer failed.';
    } finally {
      attention.running(this, false);
    }
  }

  /** A control message about this transfer from the recipient. */
  onControl(message: ControlMessage): void {
    if (!('transfer' in message) || message.transfer !== this.id) return;
    switch (message.type) {
      case 'answer':
        this.#answer?.(message.accept);
        this.#answer = null;
        return;
      case 'ack':
        this.#onAck(message.file, message.verified);
        return;
      case 'complete':
        this.#complete?.();
        return;
      case 'cancel':
        this.fail(new FerryError(message.code, message.message));
        return;
    }
  }

  /** The connection or the other side ended it. */
  fail(error: FerryError): void {
    if (!this.active) return;
    this.#abort = error;
    this.#phase = 'failed';
    this.#error = error.message;
    this.#wakeAll();
  }

  /** The user stopped it; the recipient is told. */
  cancel(): void {
    if (!this.active) return;
    try {
      this.#link?.sendControl({ type: 'cancel', transfer: this.id, code: 'ABORTED', message: 'The sender cancelled.' });
    } catch {
      // The connection is already gone.
    }
    this.#abort = new FerryError('ABORTED', 'Cancelled.');
    this.#phase = 'cancelled';
    this.#wakeAll();
  }

  #wakeAll(): void {
    this.#answer?.(false);
    this.#complete?.();
    this.#ackWaiter?.();
  }

  #check(): void {
    if (this.#abort) throw this.#abort;
  }

  #onAck(file: number, verifiedRecords: number): void {
    const size = this.files[file]?.size;
    const recordSize = this.#recordSizes[file];
    if (size === undefined || recordSize === undefined) return;
    const layout = { size, recordSize };
    const records = Math.min(verifiedRecords, recordCount(layout));
    this.#acked[file] = records === 0 ? 0 : plainRange(layout, records - 1)[1];
    this.#verified = this.#acked.reduce((a, b) => a + b, 0);
    this.#meter.sample(performance.now(), this.#verified);
    this.#speed = this.#meter.bytesPerSecond();
    void putProgress({
      transfer: this.id,
      file,
      verified: verifiedRecords,
      records: recordCount(layout),
      role: 'sender',
      updatedAt: Date.now(),
    }).catch(() => {});
    this.#ackWaiter?.();
  }

  async #sendFile(link: PeerLink, index: number, file: File, cipher: FileCipher): Promise<void> {
    const records = recordCount(cipher);
    let record = 0;
    while (record < records) {
      const [start] = plainRange(cipher, record);
      const end = Math.min(cipher.size, start + Math.max(READ_BYTES, cipher.recordSize));
      const plain = new Uint8Array(await file.slice(start, end).arrayBuffer());
      if (plain.length !== end - start)
        throw new FerryError('CONTENT_CHANGED', `${cipher.name} changed while it was being sent.`);
      do {
        const [ps, pe] = plainRange(cipher, record);
        if (pe > end) break;
        while (this.#sent - this.#verified > SEND_WINDOW_BYTES) {
          await new Promise<void>((resolve) => {
            this.#ackWaiter = resolve;
          });
          this.#check();
        }
        const sealed = await encryptRecord(cipher, record, plain.slice(ps - start, pe - start));
        await link.sendFrame(encodeRecordFrame(index, record, sealed));
        this.#check();
        this.#sent += pe - ps;
        record++;
      } while (record < records);
    }
  }
}
