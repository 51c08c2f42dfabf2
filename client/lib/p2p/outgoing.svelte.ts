/**
 * Sending files to one nearby device. The share is planned exactly like a link send
 * (send/share-plan.ts: fresh secret, keys, one nonce base per file, the same manifest and
 * record format), but nothing is created on the server and tus never starts: after the
 * files are hashed (BLAKE3, in the hash worker) the secret and the sealed manifest go to
 * the other device over the authenticated data channel, and the records follow, as many
 * per frame as the channel's maxMessageSize allows (shared/p2p/frames.ts, version 2 frames).
 *
 * Flow control has two layers: the channel's buffer (PeerLink.sendFrame, 1/4 MiB marks),
 * and a window of SEND_WINDOW_BYTES of records sent but not yet acknowledged as verified
 * by the recipient, which bounds what the recipient can have queued in memory.
 *
 * When the channel drops after the offer was accepted the transfer is suspended, not
 * failed ("Reconnecting…"): Nearby connects to the same peer again, authenticated with this
 * transfer's secret, and `resume` asks the recipient how far each file is verified, so the
 * records continue from the first one it lacks. If no connection comes back, `relay`
 * uploads the rest through Ferry's server instead (relay-upload.ts), from the first record
 * the recipient acknowledged lacking.
 */
import { toBase64Url } from '../../../shared/encoding.ts';
import { FerryError } from '../../../shared/errors.ts';
import { deriveFileKey } from '../../../shared/keys.ts';
import { DEFAULT_EXPIRY_SECONDS, TAG_SIZE } from '../../../shared/limits.ts';
import { sealManifest } from '../../../shared/manifest.ts';
import {
  type ControlMessage,
  encodeRecordFrame,
  encodeRecordsFrame,
  FRAME_HEADER_BYTES,
  FRAME_LENGTH_BYTES,
  FRAME_V1,
  FRAME_V2,
  recordsPerFrame,
} from '../../../shared/p2p/frames.ts';
import { encryptRecord, type FileCipher, plainRange, recordCount } from '../../../shared/records.ts';
import { attention } from '../pwa/attention.ts';
import type { SentFile } from '../store/db.ts';
import { Hasher } from '../transfer/hash/hasher.ts';
import { shareNames } from '../transfer/send/names.ts';
import { SpeedMeter, secondsLeft } from '../transfer/send/progress.ts';
import { manifestOf, nonceOf, planShare } from '../transfer/send/share-plan.ts';
import { deleteProgress, ProgressLog } from './p2p-db.ts';
import type { PeerLink, Route } from './peer-link.ts';
import {
  collectRelayShare,
  createRelayShare,
  type RelayShare,
  uploadRest,
  withdrawRelayShare,
} from './relay-upload.ts';

/** Records sent but not yet verified by the recipient, at most. */
export const SEND_WINDOW_BYTES = 16 * 1024 * 1024;
/**
 * Plaintext read from the file at once (64 records of 64 KiB): each File.slice + read is a
 * round trip to the browser process, so fewer, larger reads cost less CPU.
 */
const READ_BYTES = 4 * 1024 * 1024;
/** How long the recipient may take to answer `resume` (it first finishes writing what it has). */
export const RESUME_ANSWER_MS = 10_000;

/** After a drop: continue on a new link, through the relay, or not at all (cancelled, failed). */
type NextRoute = 'peer' | 'relay' | 'stop';

const lost = () => new FerryError('NETWORK_ERROR', 'The connection to the other device was lost.');

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
  #relayed = $state(false);
  #resumes = $state(0);
  #noRoute = $state(false);
  #offline = $state(false);
  #offlineReply = $state<OfflineReply | null>(null);
  readonly #source: File[];
  readonly #frames: number;
  readonly #meter = new SpeedMeter();
  readonly #progress = new ProgressLog();
  #acked: number[];
  /** Records the recipient acknowledged as verified, per file (a prefix count). */
  #ackedRecords: number[];
  /** The next record to send, per file. */
  #next: number[];
  #recordSizes: number[] = [];
  #ciphers: FileCipher[] = [];
  #secret: Uint8Array<ArrayBuffer> | null = null;
  #manifest: string | null = null;
  /** Plaintext bytes whose records were handed to the channel. */
  #sent = 0;
  #link: PeerLink | null = null;
  #answer: ((accept: boolean) => void) | null = null;
  #complete: (() => void) | null = null;
  #ackWaiter: (() => void) | null = null;
  #abort: FerryError | null = null;
  /** Wakes the wait for `complete` when the link drops. */
  #interrupt: (() => void) | null = null;
  #nextRoute: Promise<NextRoute> | null = null;
  #chooseRoute: ((route: NextRoute) => void) | null = null;
  #resumeAt: ((files: number[]) => void) | null = null;
  #stopUpload: (() => void) | null = null;
  #relayShare: RelayShare | null = null;

  /**
   * `frames`: the highest data-channel frame version the recipient reads (its `hello`); a
   * page from before version 2 frames does not say it, and gets one record per version 1
   * frame, which every version reads.
   */
  constructor(peerName: string, files: File[], frames: number = FRAME_V1) {
    this.peerName = peerName;
    this.#frames = frames;
    this.#source = files;
    const names = shareNames(files.map((f) => ({ name: f.name })));
    this.files = files.map((f, i) => ({ name: names[i]!, size: f.size }));
    this.total = files.reduce((sum, f) => sum + f.size, 0);
    this.#acked = files.map(() => 0);
    this.#ackedRecords = files.map(() => 0);
    this.#next = files.map(() => 0);
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
  /** Whether the rest went through Ferry's server after the direct connection was lost. */
  get relayed(): boolean {
    return this.#relayed;
  }
  /** How many times the transfer continued on a new connection. */
  get resumes(): number {
    return this.#resumes;
  }
  /** Whether it failed before any connection to the peer opened: no direct route was found. */
  get noRoute(): boolean {
    return this.#noRoute;
  }
  /** Whether it went through Ferry's server from the start: no direct connection to the paired device opened. */
  get offline(): boolean {
    return this.#offline;
  }
  /** Through the relay from the start: whether the paired device accepted, then read the files; null while it has not answered. */
  get offlineReply(): OfflineReply | null {
    return this.#offlineReply;
  }
  /** The files picked, to send another way (a link) when no direct route was found. */
  get sourceFiles(): readonly File[] {
    return this.#source;
  }
  /** The transfer's secret while it waits to resume: it keys the reconnection's MAC (shared/p2p/auth.ts). */
  get resumeSecret(): Uint8Array<ArrayBuffer> | null {
    return this.#phase === 'reconnecting' ? this.#secret : null;
  }

  /** The link is open; `confirmed` resolves once the people compared codes (or the MAC verified). */
  async run(link: PeerLink, confirmed: Promise<void>): Promise<void> {
    this.#link = link;
    try {
      const { secret, keys, files, manifest } = await this.#prepare();
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
      await this.#setCiphers(files, keys.contentKey);
      if (this.#ciphers.some((cipher) => recordsPerFrame(cipher.recordSize + TAG_SIZE, link.maxMessageSize) === 0)) {
        throw new FerryError('TOO_LARGE', 'The other browser takes messages too small for Ferry’s records.');
      }
      await this.#deliver(completed);
      this.#check();
      this.#phase = 'done';
      void deleteProgress(this.id).catch(() => {});
    } catch (error) {
      this.#failWith(error);
    } finally {
      attention.running(this, false);
    }
  }

  /**
   * No data channel to a paired device: every file goes through the relay share from
   * record 0, and once the share exists `sendOffer` hands the paired device the secret
   * (sealed, nearby.svelte.ts), so a device that is online reads while the upload runs.
   * `whenStored`: only once every file is stored, for a device that is offline: its offer
   * waits in a mailbox and must never point at files a closed tab did not finish. Its
   * sealed answer comes back through `offlineAnswer`.
   */
  async runOffline(
    sendOffer: (secret: Uint8Array<ArrayBuffer>, share: RelayShare) => Promise<void>,
    whenStored = false,
  ): Promise<void> {
    this.#offline = true;
    try {
      const { secret, keys, files } = await this.#prepare();
      await this.#setCiphers(files, keys.contentKey);
      this.#check();
      this.#phase = 'relaying';
      this.#relayed = true;
      attention.running(this, true);
      await this.#relay((share) => sendOffer(secret, share), whenStored);
      this.#check();
      this.#phase = 'done';
    } catch (error) {
      this.#failWith(error);
    } finally {
      attention.running(this, false);
    }
  }

  /**
   * The paired device's sealed answer to an offer sent through the relay. It may come long
   * after the upload finished (the device was offline and found the offer in its mailbox):
   * a decline then still revokes the relay share.
   */
  offlineAnswer(accept: boolean): void {
    if (!this.#offline || !(this.active || this.#phase === 'done')) return;
    if (accept) {
      this.#offlineReply ??= 'accepted';
      return;
    }
    this.#abort = new FerryError('ABORTED', `${this.peerName} declined.`);
    this.#phase = 'declined';
    this.#wakeAll();
  }

  /** Plans the share, hashes every file and seals the manifest. */
  async #prepare() {
    this.#phase = 'preparing';
    const { secret, keys, files } = await planShare(
      this.#source.map((file, i) => ({ file, name: this.files[i]!.name })),
      { expiresInSeconds: DEFAULT_EXPIRY_SECONDS, maxDownloads: null, password: '' },
    );
    this.#recordSizes = files.map((f) => f.recordSize);
    this.#secret = secret;
    const hasher = new Hasher();
    try {
      for (const [i, file] of files.entries()) file.blake3 = await hasher.hash(this.#source[i]!);
    } finally {
      hasher.abort();
    }
    const manifest = await sealManifest(manifestOf(files), keys.metaKey);
    this.#manifest = manifest;
    this.#check();
    return { secret, keys, files, manifest };
  }

  async #setCiphers(files: readonly SentFile[], contentKey: CryptoKey): Promise<void> {
    for (const file of files) {
      this.#ciphers.push({
        name: file.name,
        size: file.size,
        recordSize: file.recordSize,
        nonceBase: nonceOf(file),
        key: await deriveFileKey(contentKey, nonceOf(file)),
      });
    }
  }

  #failWith(error: unknown): void {
    if (this.#phase === 'cancelled' || this.#phase === 'declined') return;
    this.#withdraw();
    this.#phase = 'failed';
    this.#error = error instanceof FerryError ? error.message : 'The transfer failed.';
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
      case 'resume-at':
        this.#resumeAt?.(message.files);
        this.#resumeAt = null;
        return;
      case 'complete':
        this.#complete?.();
        return;
      case 'cancel':
        this.fail(new FerryError(message.code, message.message));
        return;
    }
  }

  /**
   * `link` is gone. A transfer that was sending over it waits for a new link or the relay
   * and answers true (the caller reconnects); one already waiting or relaying carries on,
   * as does one that uses another link; anything else fails.
   */
  linkLost(error: FerryError, link: PeerLink): boolean {
    if (this.#offline || (this.#link !== null && link !== this.#link)) return false;
    if (this.#phase === 'sending') {
      this.#phase = 'reconnecting';
      this.#link = null;
      this.#nextRoute = new Promise<NextRoute>((resolve) => {
        this.#chooseRoute = resolve;
      });
      this.#interrupt?.();
      this.#ackWaiter?.();
      return true;
    }
    if (this.#phase !== 'reconnecting' && this.#phase !== 'relaying') this.fail(error);
    return false;
  }

  /**
   * Continues on a new link, already authenticated with this transfer's secret: asks the
   * recipient how far each file is verified and sends from there. Throws when it does not
   * answer in time (the caller may try again or switch to the relay).
   */
  async resume(link: PeerLink): Promise<void> {
    if (this.#phase !== 'reconnecting') return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = new Promise<number[]>((resolve, reject) => {
      this.#resumeAt = resolve;
      timer = setTimeout(
        () => reject(new FerryError('NETWORK_ERROR', 'The other device did not say how far it got.')),
        RESUME_ANSWER_MS,
      );
    });
    try {
      link.sendControl({ type: 'resume', transfer: this.id });
      const files = await answer;
      if (this.#phase !== 'reconnecting') return;
      // A link that died while this side was reconnecting was not reported: try another.
      if (!link.connected) throw lost();
      if (files.length !== this.#ciphers.length) {
        throw new FerryError('INVALID_MESSAGE', 'The other device described a different transfer.');
      }
      for (const [i, verified] of files.entries()) this.#onAck(i, verified);
      this.#next = this.#ciphers.map((cipher, i) => Math.min(files[i]!, recordCount(cipher)));
      this.#sent = this.#verified;
      this.#link = link;
      this.#phase = 'sending';
      this.#resumes++;
      void link.route().then((route) => {
        this.#route = route;
      });
      this.#chooseRoute?.('peer');
    } finally {
      clearTimeout(timer);
      this.#resumeAt = null;
    }
  }

  /** No connection came back: the rest goes through Ferry's server. */
  relay(): void {
    if (this.#phase !== 'reconnecting') return;
    this.#phase = 'relaying';
    this.#relayed = true;
    this.#chooseRoute?.('relay');
  }

  /** The connection or the other side ended it. */
  fail(error: FerryError): void {
    if (!this.active) return;
    this.#noRoute = this.#phase === 'connecting';
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
    this.#chooseRoute?.('stop');
    this.#stopUpload?.();
    this.#withdraw();
  }

  /** A relay share of a transfer that will not finish is revoked, so nobody waits on it. */
  #withdraw(): void {
    const share = this.#relayShare;
    this.#relayShare = null;
    if (share) void withdrawRelayShare(share);
  }

  #check(): void {
    if (this.#abort) throw this.#abort;
    if (this.#phase === 'reconnecting') throw lost();
  }

  /**
   * Sends every record the recipient lacks, over the current link, then waits for
   * `complete`. When the link drops (linkLost) it waits for the next route: a resumed link
   * (and sends on from where the recipient is), or the relay.
   */
  async #deliver(completed: Promise<void>): Promise<void> {
    for (;;) {
      try {
        const link = this.#link;
        if (this.#phase !== 'sending' || !link) throw lost();
        const interrupted = new Promise<void>((resolve) => {
          this.#interrupt = resolve;
        });
        for (const [i, cipher] of this.#ciphers.entries()) await this.#sendFile(link, i, this.#source[i]!, cipher);
        await Promise.race([completed, interrupted]);
        this.#check();
        return;
      } catch (error) {
        if (this.#phase !== 'reconnecting') throw error;
      }
      const route = await this.#nextRoute;
      this.#check();
      if (route === 'relay') return this.#relay();
    }
  }

  /**
   * The rest through the relay share: each file the recipient does not have whole, from
   * the first record it did not acknowledge. Progress is what the server has stored.
   * `announce` runs once the share exists, or once every file is stored (`whenStored`).
   */
  async #relay(announce?: (share: RelayShare) => Promise<void>, whenStored = false): Promise<void> {
    const secret = this.#secret;
    const manifest = this.#manifest;
    if (!secret || !manifest) throw lost();
    const share = await createRelayShare(secret, manifest, this.#ciphers);
    this.#relayShare = share;
    // Cancelled while the share was being made (its retries take seconds): nothing else
    // would revoke it, since a cancelled transfer does not fail.
    if (this.#abort) this.#withdraw();
    this.#check();
    if (!whenStored) {
      await announce?.(share);
      this.#check();
    }
    const stored = [...this.#acked];
    for (const [i, cipher] of this.#ciphers.entries()) {
      const from = this.#ackedRecords[i]!;
      if (from >= recordCount(cipher)) continue; // the recipient has this file whole
      const upload = uploadRest(share, i, this.#source[i]!, cipher, from, (bytes) => {
        stored[i] = bytes;
        this.#verified = stored.reduce((a, b) => a + b, 0);
        this.#meter.sample(performance.now(), this.#verified);
        this.#speed = this.#meter.bytesPerSecond();
      });
      this.#stopUpload = upload.abort;
      await upload.done;
      this.#stopUpload = null;
      this.#check();
    }
    if (whenStored) {
      await announce?.(share);
      this.#check();
    }
    // Once the recipient has read it (or its ticket lapsed, which counts too), the share is
    // revoked rather than left to expire; meanwhile a cancel still withdraws it.
    void collectRelayShare(share, () => this.#relayShare !== share).then((revoked) => {
      if (!revoked || this.#relayShare !== share) return;
      this.#relayShare = null;
      if (this.#offline) this.#offlineReply = 'received';
    });
  }

  #onAck(file: number, verifiedRecords: number): void {
    const size = this.files[file]?.size;
    const recordSize = this.#recordSizes[file];
    if (size === undefined || recordSize === undefined) return;
    const layout = { size, recordSize };
    const records = Math.min(verifiedRecords, recordCount(layout));
    this.#ackedRecords[file] = records;
    this.#acked[file] = records === 0 ? 0 : plainRange(layout, records - 1)[1];
    this.#verified = this.#acked.reduce((a, b) => a + b, 0);
    this.#meter.sample(performance.now(), this.#verified);
    this.#speed = this.#meter.bytesPerSecond();
    this.#progress.note({
      transfer: this.id,
      file,
      verified: verifiedRecords,
      records: recordCount(layout),
      role: 'sender',
    });
    this.#ackWaiter?.();
  }

  /** Sends records [#next[index], last] of one file; #next follows what was handed to the channel. */
  async #sendFile(link: PeerLink, index: number, file: File, cipher: FileCipher): Promise<void> {
    const records = recordCount(cipher);
    let record = this.#next[index]!;
    // Up to `perFrame` records per frame (shared/p2p/frames.ts v2), and one frame buffer for the
    // whole file: sendFrame hands each frame to the channel, which copies it, before the
    // next is built.
    const sealedBytes = cipher.recordSize + TAG_SIZE;
    const v2 = this.#frames >= FRAME_V2;
    const perFrame = v2 ? recordsPerFrame(sealedBytes, link.maxMessageSize) : 1;
    const frame = new Uint8Array(FRAME_HEADER_BYTES + perFrame * (FRAME_LENGTH_BYTES + sealedBytes));
    while (record < records) {
      const [start] = plainRange(cipher, record);
      const end = Math.min(cipher.size, start + Math.max(READ_BYTES, cipher.recordSize));
      const plain = new Uint8Array(await file.slice(start, end).arrayBuffer());
      if (plain.length !== end - start)
        throw new FerryError('CONTENT_CHANGED', `${cipher.name} changed while it was being sent.`);
      // Every record that lies whole in this read is sealed at once (WebCrypto works off this
      // thread), then sent in order: no wake-up of this thread per record between them.
      const first = record;
      const sealing: Promise<Uint8Array<ArrayBuffer>>[] = [];
      for (let r = first; r < records; r++) {
        const [ps, pe] = plainRange(cipher, r);
        if (pe > end) break;
        // A view: WebCrypto copies its input.
        const sealed = encryptRecord(cipher, r, plain.subarray(ps - start, pe - start));
        sealed.catch(() => {}); // awaited below unless the transfer stops first
        sealing.push(sealed);
      }
      for (let i = 0; i < sealing.length; i += perFrame) {
        while (this.#sent - this.#verified > SEND_WINDOW_BYTES) {
          await new Promise<void>((resolve) => {
            this.#ackWaiter = resolve;
          });
          this.#check();
        }
        const sealed = await Promise.all(sealing.slice(i, i + perFrame));
        await link.sendFrame(
          v2
            ? encodeRecordsFrame(index, first + i, sealed, frame)
            : encodeRecordFrame(index, first + i, sealed[0]!, frame),
        );
        this.#check();
        const [ps] = plainRange(cipher, first + i);
        const [, pe] = plainRange(cipher, first + i + sealed.length - 1);
        this.#sent += pe - ps;
        record = first + i + sealed.length;
        this.#next[index] = record;
      }
    }
  }
}
