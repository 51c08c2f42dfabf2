/**
 * Sending files to one nearby or paired device: the page's side of a transfer. The share
 * is planned exactly like a link send (send/share-plan.ts: fresh secret, keys, one nonce
 * base per file, the same manifest and record format), but nothing is created on the
 * server and tus never starts: after the files are hashed (BLAKE3, in the hash worker) the
 * engine's SenderSession (shared/p2p/sender-session.ts: its transition table, window,
 * resume and fallback) offers them over the authenticated data channel and sends the
 * records. This class plans, hashes, mirrors the session's state into runes and owns the
 * relay route (relay-upload.ts, tus in the browser): the session calls it after a drop the
 * sender could not resume from, and `runOffline` uses it alone for a paired device that no
 * data channel reached (the mailbox route).
 */
import { toBase64Url } from '../../../shared/encoding.ts';
import { FerryError } from '../../../shared/errors.ts';
import { deriveFileKey } from '../../../shared/keys.ts';
import { DEFAULT_EXPIRY_SECONDS } from '../../../shared/limits.ts';
import { sealManifest } from '../../../shared/manifest.ts';
import type { ControlMessage } from '../../../shared/p2p/frames.ts';
import { FRAME_V1 } from '../../../shared/p2p/frames.ts';
import { type SenderOutcome, SenderSession, type SenderState } from '../../../shared/p2p/sender-session.ts';
import { type FileCipher, recordCount } from '../../../shared/records.ts';
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

export { RESUME_ANSWER_MS, SEND_WINDOW_BYTES } from '../../../shared/p2p/sender-session.ts';

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
  #ciphers: FileCipher[] = [];
  #secret: Uint8Array<ArrayBuffer> | null = null;
  #manifest: string | null = null;
  #session: SenderSession | null = null;
  #link: PeerLink | null = null;
  /** Why it ended before a session existed (or through the mailbox route), if it did. */
  #abort: FerryError | null = null;
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
    return this.#session?.resumeSecret ?? null;
  }

  /** The link is open; `confirmed` resolves once the people compared codes (or the MAC verified). */
  async run(link: PeerLink, confirmed: Promise<void>): Promise<void> {
    this.#link = link;
    try {
      await this.#prepare();
    } catch (error) {
      this.#failWith(error);
      return;
    }
    const session = new SenderSession(
      {
        transfer: this.id,
        secret: this.#secret!,
        manifest: this.#manifest!,
        ciphers: this.#ciphers,
        sources: this.#source.map(
          (file) => async (start, end) => new Uint8Array(await file.slice(start, end).arrayBuffer()),
        ),
        frames: this.#frames,
      },
      {
        onState: (state) => this.#onState(state),
        onAck: (file, records, verified) => this.#onAck(file, records, verified),
        relay: (from, onStored) => this.#relay(from, onStored),
        onSettle: (outcome) => this.#onSettle(outcome),
      },
    );
    this.#session = session;
    this.#phase = 'confirm';
    await session.run(link, confirmed);
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
      await this.#prepare();
      this.#check();
      this.#phase = 'relaying';
      this.#relayed = true;
      attention.running(this, true);
      const secret = this.#secret!;
      const stored = this.files.map(() => 0);
      await this.#relay(
        this.files.map(() => 0),
        (file, bytes) => {
          stored[file] = bytes;
          this.#progressTo(stored.reduce((a, b) => a + b, 0));
        },
        (share) => sendOffer(secret, share),
        whenStored,
      );
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
    this.#stopUpload?.();
    this.#withdraw();
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
    if (this.#offline) return false;
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

  /** The connection or the other side ended it. */
  fail(error: FerryError): void {
    if (!this.active) return;
    if (this.#session) {
      this.#session.fail(error);
      return;
    }
    this.#noRoute = this.#phase === 'connecting';
    this.#abort = error;
    this.#phase = 'failed';
    this.#error = error.message;
    this.#stopUpload?.();
    this.#withdraw();
  }

  /** The user stopped it; the recipient is told. */
  cancel(): void {
    if (!this.active) return;
    if (this.#session) {
      this.#session.cancel();
      return;
    }
    this.#abort = new FerryError('ABORTED', 'Cancelled.');
    this.#phase = 'cancelled';
    this.#stopUpload?.();
    this.#withdraw();
  }

  #onState(state: SenderState): void {
    const from = this.#phase;
    this.#phase = PHASE_OF[state];
    if (state === 'sending') {
      if (from === 'reconnecting') this.#resumes++;
      attention.running(this, true);
      const link = this.#link;
      const current = this.#session;
      void link?.route().then((route) => {
        if (this.#session === current) this.#route = route;
      });
    }
    if (state === 'relaying') this.#relayed = true;
  }

  #onSettle(outcome: SenderOutcome): void {
    attention.running(this, false);
    this.#stopUpload?.();
    if (outcome.state === 'done') void deleteProgress(this.id).catch(() => {});
    else this.#withdraw();
    if (outcome.state === 'failed') this.#error = outcome.error.message;
  }

  /** Plans the share, hashes every file and seals the manifest. */
  async #prepare(): Promise<void> {
    this.#phase = 'preparing';
    const { secret, keys, files } = await planShare(
      this.#source.map((file, i) => ({ file, name: this.files[i]!.name })),
      { expiresInSeconds: DEFAULT_EXPIRY_SECONDS, maxDownloads: null, password: '' },
    );
    this.#secret = secret;
    const hasher = new Hasher();
    try {
      for (const [i, file] of files.entries()) file.blake3 = await hasher.hash(this.#source[i]!);
    } finally {
      hasher.abort();
    }
    this.#manifest = await sealManifest(manifestOf(files), keys.metaKey);
    this.#check();
    await this.#setCiphers(files, keys.contentKey);
    this.#check();
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

  /** A relay share of a transfer that will not finish is revoked, so nobody waits on it. */
  #withdraw(): void {
    const share = this.#relayShare;
    this.#relayShare = null;
    if (share) void withdrawRelayShare(share);
  }

  #check(): void {
    if (this.#abort) throw this.#abort;
  }

  /**
   * The relay route: each file the recipient does not have whole goes to the relay share
   * from record from[i]; progress is what the server has stored. `announce` runs once the
   * share exists, or once every file is stored (`whenStored`).
   */
  async #relay(
    from: number[],
    onStored: (file: number, bytes: number) => void,
    announce?: (share: RelayShare) => Promise<void>,
    whenStored = false,
  ): Promise<void> {
    const secret = this.#secret;
    const manifest = this.#manifest;
    if (!secret || !manifest) throw new FerryError('NETWORK_ERROR', 'The connection to the other device was lost.');
    const stopped = () => this.#abort ?? (this.#session?.outcome ? new FerryError('ABORTED', 'Stopped.') : null);
    const share = await createRelayShare(secret, manifest, this.#ciphers);
    this.#relayShare = share;
    // Stopped while the share was being made (its retries take seconds): nothing else
    // would revoke it.
    if (stopped()) this.#withdraw();
    const check = () => {
      const reason = stopped();
      if (reason) throw reason;
    };
    check();
    if (!whenStored) {
      await announce?.(share);
      check();
    }
    for (const [i, cipher] of this.#ciphers.entries()) {
      if (from[i]! >= recordCount(cipher)) continue; // the recipient has this file whole
      const upload = uploadRest(share, i, this.#source[i]!, cipher, from[i]!, (bytes) => {
        onStored(i, bytes);
        if (this.#session) this.#progressTo(this.#session.verified);
      });
      this.#stopUpload = upload.abort;
      await upload.done;
      this.#stopUpload = null;
      check();
    }
    if (whenStored) {
      await announce?.(share);
      check();
    }
    // Once the recipient has read it (or its ticket lapsed, which counts too), the share is
    // revoked rather than left to expire; meanwhile a cancel still withdraws it.
    void collectRelayShare(share, () => this.#relayShare !== share).then((revoked) => {
      if (!revoked || this.#relayShare !== share) return;
      this.#relayShare = null;
      if (this.#offline) this.#offlineReply = 'received';
    });
  }

  #onAck(file: number, records: number, verified: number): void {
    const cipher = this.#ciphers[file];
    if (!cipher) return;
    this.#progressTo(verified);
    this.#progress.note({ transfer: this.id, file, verified: records, records: recordCount(cipher), role: 'sender' });
  }

  #progressTo(verified: number): void {
    this.#verified = verified;
    this.#meter.sample(performance.now(), verified);
    this.#speed = this.#meter.bytesPerSecond();
  }
}
