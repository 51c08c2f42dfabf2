/**
 * The sender's side of one transfer to a device over a data channel (the peer route),
 * environment-neutral: a PeerChannel, a PlainReader per file and the AES-GCM its adapter
 * chose (record-aead.ts: WebCrypto in the app, node:crypto in the ferry command). The app's
 * PeerSend (client/lib/p2p/outgoing/peer.svelte.ts) and the ferry command drive it.
 *
 *   confirm ──confirmed──► offered ──accepted──► sending ──completed──► done
 *                             │                   │  ▲
 *                          declined              lost resumed
 *                             ▼                   ▼  │
 *                          declined           reconnecting ──relay──► relaying ──relayed──► done
 *
 *   every state but a final one: cancel ──► cancelled, fail ──► failed
 *
 * SENDER_TRANSITIONS is that table; `#settle(outcome)` is the one way into a final state:
 * it clears the timers, wakes every wait and tells `onSettle` once (simple-peer's
 * idempotent destroy).
 *
 * On the wire (frames.ts): `offer` (the link secret and the sealed manifest) once the
 * people confirmed; after `answer {accept}` the records of every file in order, as many
 * per frame as the channel takes (version 2 frames to a peer that reads them), at most
 * SEND_WINDOW_BYTES beyond what the recipient acknowledged as verified (`ack`); then the
 * recipient's `complete`. When the channel drops while sending, the session waits
 * (`reconnecting`): the caller opens a new channel (MAC mode keyed with the transfer's
 * secret, `resumeSecret`) and calls `resume`, which sends `resume` and continues each file
 * at the record `resume-at` names; or it calls `relay`, and the rest goes through the
 * caller's relay route from the first record the recipient did not acknowledge.
 */
import { toBase64Url } from '../encoding.ts';
import { FerryError } from '../errors.ts';
import { TAG_SIZE } from '../limits.ts';
import { type RecordAead, sealRecords } from '../record-aead.ts';
import { type FileCipher, type PlainReader, plainRange, recordCount } from '../records.ts';
import type { PeerChannel } from './channel.ts';
import {
  type ControlMessage,
  encodeRecordFrame,
  encodeRecordsFrame,
  FRAME_HEADER_BYTES,
  FRAME_LENGTH_BYTES,
  FRAME_V2,
  recordsPerFrame,
} from './frames.ts';
import { Machine, type SessionOutcome, type TransitionTable } from './machine.ts';
import { SessionWaits } from './session-waits.ts';

/** Records sent but not yet verified by the recipient, at most (plaintext bytes). */
export const SEND_WINDOW_BYTES = 16 * 1024 * 1024;
/**
 * Plaintext read from a file at once (64 records of 64 KiB): in a browser each File.slice
 * + read is a round trip to the browser process, so fewer, larger reads cost less CPU.
 */
export const READ_BYTES = 4 * 1024 * 1024;
/** How long the recipient may take to answer `resume` (it first finishes writing what it has). */
export const RESUME_ANSWER_MS = 10_000;

export type SenderState =
  | 'confirm'
  | 'offered'
  | 'sending'
  | 'reconnecting'
  | 'relaying'
  | 'done'
  | 'declined'
  | 'failed'
  | 'cancelled';
export type SenderEvent =
  | 'confirmed'
  | 'accepted'
  | 'declined'
  | 'completed'
  | 'lost'
  | 'resumed'
  | 'relay'
  | 'relayed'
  | 'cancel'
  | 'fail';

const EXITS = { cancel: 'cancelled', fail: 'failed' } as const;

export const SENDER_TRANSITIONS: TransitionTable<SenderState, SenderEvent> = {
  confirm: { confirmed: 'offered', ...EXITS },
  offered: { accepted: 'sending', declined: 'declined', ...EXITS },
  sending: { completed: 'done', lost: 'reconnecting', ...EXITS },
  reconnecting: { resumed: 'sending', relay: 'relaying', ...EXITS },
  relaying: { relayed: 'done', ...EXITS },
  done: {},
  declined: {},
  failed: {},
  cancelled: {},
};

/** How a session ended. */
export type SenderOutcome = SessionOutcome;

/** What is sent: made by the caller (the share plan, hashed, the manifest sealed). */
export interface SenderPlan {
  /** The transfer's id (16 random bytes, base64url). */
  transfer: string;
  /** The link secret of the transfer; its keys sealed the manifest and derive each file's key. */
  secret: Uint8Array<ArrayBuffer>;
  /** The sealed manifest (manifest.ts sealManifest), with every file's BLAKE3. */
  manifest: string;
  /** Each file's key, nonce base and layout, in manifest order. */
  ciphers: FileCipher[];
  /** Each file's plaintext, in manifest order. */
  sources: PlainReader[];
  /** The highest frame version the recipient reads (its signaling `hello`); FRAME_V1 when it said nothing. */
  frames: number;
  /** The AES-GCM that seals the records (record-aead.ts): WebCrypto in the app, node:crypto in the command. */
  aead: RecordAead;
}

export interface SenderHooks {
  /** The state changed (for display state). */
  onState?: (state: SenderState) => void;
  /** The recipient acknowledged `records` of `file` as verified (`verified`: plaintext bytes of all files). */
  onAck?: (file: number, records: number, verified: number) => void;
  /**
   * The relay route (after `relay()`): sends file i from record from[i] (files with
   * from[i] = their record count are whole on the recipient) and reports the plaintext
   * bytes of each file stored so far; resolves once everything is stored. Rejects to fail
   * the transfer. Without it, `relay()` fails the transfer.
   */
  relay?: (from: number[], onStored: (file: number, bytes: number) => void) => Promise<void>;
  /** Told once, when the session reaches a final state. */
  onSettle?: (outcome: SenderOutcome) => void;
  /** Overrides RESUME_ANSWER_MS (tests). */
  resumeAnswerMs?: number;
}

const lost = () => new FerryError('NETWORK_ERROR', 'The connection to the other device was lost.');

export class SenderSession {
  readonly plan: SenderPlan;
  readonly #machine: Machine<SenderState, SenderEvent>;
  readonly #hooks: SenderHooks;
  #channel: PeerChannel | null = null;
  #outcome: SenderOutcome | null = null;
  /** Plaintext bytes the recipient verified, per file. */
  readonly #acked: number[];
  /** Records the recipient acknowledged as verified, per file (a prefix count). */
  readonly #ackedRecords: number[];
  /** The next record to send, per file. */
  #next: number[];
  /** Plaintext bytes whose records were handed to the channel. */
  #sent = 0;
  #verified = 0;
  /** The offer went out: from then on this side's own failure is told to the recipient. */
  #offered = false;
  #accepted: boolean | null = null;
  #completed = false;
  #resumeAt: number[] | null = null;
  /** Every wait re-checks after a wake; stopped (every timer cleared) once the session settles. */
  readonly #waits = new SessionWaits();

  constructor(plan: SenderPlan, hooks: SenderHooks = {}) {
    if (plan.ciphers.length !== plan.sources.length) throw new RangeError('one source per file');
    this.plan = plan;
    this.#hooks = hooks;
    this.#machine = new Machine(SENDER_TRANSITIONS, 'confirm', (state) => hooks.onState?.(state));
    this.#acked = plan.ciphers.map(() => 0);
    this.#ackedRecords = plan.ciphers.map(() => 0);
    this.#next = plan.ciphers.map(() => 0);
  }

  get state(): SenderState {
    return this.#machine.state;
  }
  get outcome(): SenderOutcome | null {
    return this.#outcome;
  }
  /** Plaintext bytes the recipient verified (or, through the relay, the server stored). */
  get verified(): number {
    return this.#verified;
  }
  /** Records of each file the recipient acknowledged as verified. */
  get ackedRecords(): readonly number[] {
    return this.#ackedRecords;
  }
  /** The transfer's secret while it waits to resume: it keys the reconnection's MAC. */
  get resumeSecret(): Uint8Array<ArrayBuffer> | null {
    return this.state === 'reconnecting' ? this.plan.secret : null;
  }

  /**
   * Runs the transfer on `channel` (open; `confirmed` resolves once its handshake let a
   * secret leave) until it settles, and returns how it ended. Never rejects.
   */
  async run(channel: PeerChannel, confirmed: Promise<void>): Promise<SenderOutcome> {
    this.#channel = channel;
    try {
      const tooSmall = this.plan.ciphers.some(
        (cipher) => recordsPerFrame(cipher.recordSize + TAG_SIZE, channel.maxMessageSize) === 0,
      );
      await Promise.race([confirmed, this.#waits.until(() => false)]);
      this.#check();
      this.#machine.fire('confirmed');
      this.#offered = true;
      channel.sendControl({
        type: 'offer',
        transfer: this.plan.transfer,
        secret: toBase64Url(this.plan.secret),
        manifest: this.plan.manifest,
      });
      await this.#waits.until(() => this.#accepted !== null);
      if (!this.#accepted) {
        this.#settle({ state: 'declined' });
        return this.#outcome!;
      }
      this.#machine.fire('accepted');
      if (tooSmall)
        throw new FerryError('TOO_LARGE', 'The other browser takes messages too small for Ferry’s records.');
      await this.#deliver();
    } catch (error) {
      this.#failAndTell(
        error instanceof FerryError ? error : new FerryError('INTERNAL', 'The transfer failed.', { cause: error }),
      );
    }
    return this.#outcome!;
  }

  /** A control message from the recipient; messages about other transfers are ignored. */
  onControl(message: ControlMessage): void {
    if (!('transfer' in message) || message.transfer !== this.plan.transfer || this.#outcome) return;
    switch (message.type) {
      case 'answer':
        if (this.state === 'offered' && this.#accepted === null) this.#accepted = message.accept;
        break;
      case 'ack':
        this.#onAck(message.file, message.verified);
        break;
      case 'resume-at':
        if (this.state === 'reconnecting') this.#resumeAt = message.files;
        break;
      case 'complete':
        this.#completed = true;
        break;
      case 'cancel':
        this.fail(new FerryError(message.code, message.message));
        return;
      default:
        return;
    }
    this.#waits.wake();
  }

  /**
   * `channel` is gone. A session that was sending over it waits for a new channel or the
   * relay and answers true (the caller reconnects); one already waiting or relaying
   * carries on, as does one on another channel; before the records, it fails.
   */
  channelLost(error: FerryError, channel: PeerChannel): boolean {
    if (this.#outcome || (this.#channel !== null && channel !== this.#channel)) return false;
    if (this.state === 'sending') {
      this.#machine.fire('lost');
      this.#channel = null;
      this.#waits.wake();
      return true;
    }
    if (this.state === 'confirm' || this.state === 'offered') this.fail(error);
    return false;
  }

  /**
   * Continues on a new channel, already authenticated with this transfer's secret: asks
   * the recipient how far each file is verified and sends from there. Throws when it does
   * not answer within RESUME_ANSWER_MS (the caller may try again or call `relay`).
   */
  async resume(channel: PeerChannel): Promise<void> {
    if (this.state !== 'reconnecting') return;
    this.#resumeAt = null;
    let timedOut = false;
    const timer = this.#waits.timer(() => {
      timedOut = true;
      this.#waits.wake();
    }, this.#hooks.resumeAnswerMs ?? RESUME_ANSWER_MS);
    try {
      channel.sendControl({ type: 'resume', transfer: this.plan.transfer });
      await this.#waits.until(() => this.#resumeAt !== null || timedOut || this.state !== 'reconnecting');
      // Set by onControl while this waited (TypeScript cannot see that).
      const files = this.#resumeAt as number[] | null;
      if (this.state !== 'reconnecting') return;
      if (!files) throw new FerryError('NETWORK_ERROR', 'The other device did not say how far it got.');
      // A channel that died while this side was reconnecting was not reported: try another.
      if (channel.connected === false) throw lost();
      if (files.length !== this.plan.ciphers.length) {
        throw new FerryError('INVALID_MESSAGE', 'The other device described a different transfer.');
      }
      for (const [i, verified] of files.entries()) this.#onAck(i, verified);
      this.#next = this.plan.ciphers.map((cipher, i) => Math.min(files[i]!, recordCount(cipher)));
      this.#sent = this.#verified;
      this.#channel = channel;
      this.#machine.fire('resumed');
      this.#waits.wake();
    } finally {
      this.#waits.clear(timer);
      this.#resumeAt = null;
    }
  }

  /** No channel came back: the rest goes through the relay route. */
  relay(): void {
    if (this.state !== 'reconnecting') return;
    this.#machine.fire('relay');
    this.#waits.wake();
  }

  /** The person stopped it; the recipient is told when a channel is up. */
  cancel(): void {
    if (this.#outcome) return;
    try {
      this.#channel?.sendControl({
        type: 'cancel',
        transfer: this.plan.transfer,
        code: 'ABORTED',
        message: 'The sender cancelled.',
      });
    } catch {
      // The channel is already gone.
    }
    this.#settle({ state: 'cancelled' });
  }

  /** The channel, the relay or the other side ended it. */
  fail(error: FerryError): void {
    this.#settle({ state: 'failed', error });
  }

  /**
   * This side's own failure (TOO_LARGE, CONTENT_CHANGED, INTERNAL): once the offer went out,
   * the recipient is told why while a channel is up, rather than learning only that the link
   * closed. Before the offer (a failed handshake) nothing is said to the peer.
   */
  #failAndTell(error: FerryError): void {
    if (this.#outcome) return;
    if (this.#offered) {
      try {
        this.#channel?.sendControl({
          type: 'cancel',
          transfer: this.plan.transfer,
          code: error.code,
          message: error.message.slice(0, 500),
        });
      } catch {
        // The channel is already gone.
      }
    }
    this.fail(error);
  }

  /** The one way into a final state: idempotent; clears every timer and wakes every wait. */
  #settle(outcome: SenderOutcome): void {
    if (this.#outcome) return;
    this.#outcome = outcome;
    const event = {
      done: this.state === 'relaying' ? 'relayed' : 'completed',
      declined: 'declined',
      cancelled: 'cancel',
      failed: 'fail',
    } as const;
    this.#machine.fire(event[outcome.state]);
    this.#channel = null;
    this.#waits.stop();
    this.#hooks.onSettle?.(outcome);
  }

  /** Throws when the session settled (its error, or an abort). */
  #check(): void {
    const outcome = this.#outcome;
    if (outcome) throw outcome.state === 'failed' ? outcome.error : new FerryError('ABORTED', 'Stopped.');
  }

  /** Throws when the session settled, or the channel dropped (it is no longer sending). */
  #checkSending(): void {
    this.#check();
    if (this.state !== 'sending') throw lost();
  }

  /**
   * Sends every record the recipient lacks over the current channel, then waits for
   * `complete`. When the channel drops it waits for the next route: a resumed channel
   * (and sends on from where the recipient is), or the relay.
   */
  async #deliver(): Promise<void> {
    for (;;) {
      try {
        const channel = this.#channel;
        if (this.state !== 'sending' || !channel) throw lost();
        for (const i of this.plan.ciphers.keys()) await this.#sendFile(channel, i);
        await this.#waits.until(() => this.#completed || this.state !== 'sending');
        this.#checkSending();
        this.#settle({ state: 'done' });
        return;
      } catch (error) {
        // The drop (or the switch to the relay right after it) is handled below.
        if (this.state !== 'reconnecting' && this.state !== 'relaying') throw error;
      }
      await this.#waits.until(() => this.state !== 'reconnecting');
      if (this.#outcome) return;
      if (this.state === 'relaying') return this.#relay();
    }
  }

  async #relay(): Promise<void> {
    const relay = this.#hooks.relay;
    if (!relay) throw new FerryError('NETWORK_ERROR', 'The other device did not come back.');
    const stored = [...this.#acked];
    const uploaded = relay([...this.#ackedRecords], (file, bytes) => {
      if (this.#outcome || stored[file] === undefined) return;
      stored[file] = bytes;
      this.#verified = stored.reduce((a, b) => a + b, 0);
    });
    uploaded.catch(() => {}); // a rejection after a cancel has no one to tell
    // A cancel ends the session at once; the relay route stops its upload in onSettle.
    await Promise.race([uploaded, this.#waits.until(() => false)]);
    this.#check();
    this.#settle({ state: 'done' });
  }

  #onAck(file: number, verifiedRecords: number): void {
    const cipher = this.plan.ciphers[file];
    if (!cipher) return;
    const records = Math.min(verifiedRecords, recordCount(cipher));
    this.#ackedRecords[file] = records;
    this.#acked[file] = records === 0 ? 0 : plainRange(cipher, records - 1)[1];
    this.#verified = this.#acked.reduce((a, b) => a + b, 0);
    this.#hooks.onAck?.(file, verifiedRecords, this.#verified);
  }

  /** Sends records [#next[index], last] of one file; #next follows what was handed to the channel. */
  async #sendFile(channel: PeerChannel, index: number): Promise<void> {
    const cipher = this.plan.ciphers[index]!;
    const read = this.plan.sources[index]!;
    const records = recordCount(cipher);
    let record = this.#next[index]!;
    // Up to `perFrame` records per frame (frames.ts v2), and one frame buffer for the whole
    // file: sendFrame hands each frame to the channel, which copies it, before the next is built.
    const sealedBytes = cipher.recordSize + TAG_SIZE;
    const v2 = this.plan.frames >= FRAME_V2;
    const perFrame = v2 ? recordsPerFrame(sealedBytes, channel.maxMessageSize) : 1;
    const frame = new Uint8Array(FRAME_HEADER_BYTES + perFrame * (FRAME_LENGTH_BYTES + sealedBytes));
    while (record < records) {
      const [start] = plainRange(cipher, record);
      const end = Math.min(cipher.size, start + Math.max(READ_BYTES, cipher.recordSize));
      const plain = await read(start, end);
      this.#checkSending();
      // Every record that lies whole in this read is sealed at once (WebCrypto works off this
      // thread; node:crypto before it answers), then sent in order. A short read fails with
      // CONTENT_CHANGED.
      const first = record;
      const last = end === cipher.size ? records - 1 : Math.floor(end / cipher.recordSize) - 1;
      const sealing = Promise.resolve(
        sealRecords(
          this.plan.aead,
          cipher,
          first,
          last - first + 1,
          plain.subarray(0, plainRange(cipher, last)[1] - start),
        ),
      );
      sealing.catch(() => {}); // awaited below unless the transfer stops first
      for (let i = 0; first + i <= last; i += perFrame) {
        await this.#waits.until(() => this.#sent - this.#verified <= SEND_WINDOW_BYTES || this.state !== 'sending');
        this.#checkSending();
        const sealed = (await sealing).slice(i, i + perFrame);
        await channel.sendFrame(
          v2
            ? encodeRecordsFrame(index, first + i, sealed, frame)
            : encodeRecordFrame(index, first + i, sealed[0]!, frame),
        );
        this.#checkSending();
        const [ps] = plainRange(cipher, first + i);
        const [, pe] = plainRange(cipher, first + i + sealed.length - 1);
        this.#sent += pe - ps;
        record = first + i + sealed.length;
        this.#next[index] = record;
      }
    }
  }
}
