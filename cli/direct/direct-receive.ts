/**
 * Receiving one offer, as the app's IncomingTransfer does: the offer's secret gives the
 * keys, the manifest is opened and checked (every file with its BLAKE3) before anything is
 * asked; once accepted each record is opened as it arrives (shared/records.ts: tag, index
 * and final flag), written at its place in `<name>.ferry-part` and hashed, and the sender
 * hears how many records are verified every ACK_EVERY_BYTES and at each file's end (which
 * also paces it). A file whose BLAKE3 matches is renamed to its name; one that fails
 * anything is deleted, part file included, and the sender gets a `cancel` with the code.
 *
 * The records come from one of two routes, and may switch mid-file: the data channel, or
 * the relay share on the server (shared/p2p/relay-read.ts) whose id follows from the
 * transfer's secret. When the channel drops, the transfer waits: a new connection keyed
 * with the transfer's secret whose sender asks `resume` hears how far each file got
 * (`resume-at`) and sends on from there; meanwhile the relay share is looked for, and once
 * the sender switched to it the rest is read from it, from the first record lacking. An
 * offer that came through the server (sealed, by a paired device: mailbox.ts) is read from
 * the relay share alone.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createBLAKE3 } from 'hash-wasm';
import { fromBase64Url } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { deriveShareKeys, relayShareId } from '../../shared/keys.ts';
import { fileCipher, type Manifest, openManifest } from '../../shared/manifest.ts';
import { type ControlMessage, type ControlMessageOf, decodeFrame, frameRefusal } from '../../shared/p2p/frames.ts';
import { RELAY_WAIT_MS } from '../../shared/p2p/relay.ts';
import { readFromRelay, relayTicket, waitForRelayShare } from '../../shared/p2p/relay-read.ts';
import { decryptRecord, type FileCipher, plainRange, recordCount } from '../../shared/records.ts';
import { Progress } from '../progress.ts';
import { exists, PART_SUFFIX, targetOf } from '../receive.ts';
import { asFerryError } from './peer-connection.ts';

/** Acknowledge verified records at least this often (plaintext bytes; the app's ACK_EVERY_BYTES). */
export const ACK_EVERY_BYTES = 2 * 1024 * 1024;

/**
 * No record for this long while receiving, and the connection is taken as lost: a safety
 * net should werift not notice a peer that went away (the transfer would otherwise wait for
 * ever). The app's share pull gives a silent peer 15 s; werift under load needs more.
 */
export const RECORD_STALL_MS = 30_000;

/** An offer opened: what it holds, and where each file would land. */
export interface OpenedOffer {
  transfer: string;
  secret: Uint8Array<ArrayBuffer>;
  manifest: Manifest;
  ciphers: FileCipher[];
  targets: string[];
}

/** Opens an offer's manifest with its secret; refuses one that lacks hashes or would overwrite a file. */
export async function openOffer(offer: ControlMessageOf<'offer'>, out: string): Promise<OpenedOffer> {
  const secret = fromBase64Url(offer.secret);
  const keys = await deriveShareKeys(secret);
  const manifest = await openManifest(offer.manifest, keys.metaKey);
  if (manifest.files.some((f) => !f.blake3))
    throw new FerryError('MANIFEST_INVALID', 'The offer lacks the files’ hashes.');
  const ciphers = await Promise.all(manifest.files.map((f) => fileCipher(f, keys.contentKey)));
  const targets = manifest.files.map((f) => targetOf(out, f.name));
  for (const target of targets) {
    if (await exists(target)) throw new FerryError('CONFLICT', `${target} already exists.`);
  }
  return { transfer: offer.transfer, secret, manifest, ciphers, targets };
}

/** A connection to the sender as the recipient needs it (PeerConnection is one). */
export interface ReceiveConnection {
  readonly link: { sendControl(message: ControlMessage): void };
  readonly lost: Promise<never>;
  onControl: (message: ControlMessage) => void;
  onBinary: (bytes: Uint8Array<ArrayBuffer>) => void;
  close(error: FerryError): void;
}

export interface DirectReceiveOptions {
  /** The server's origin, where the relay share is. */
  server: string;
  quiet: boolean;
  say: (line: string) => void;
  peerName: string;
  /** Overrides RELAY_WAIT_MS (tests). */
  relayWaitMs?: number;
  /** Overrides RECORD_STALL_MS (tests). */
  recordStallMs?: number;
}

/** One file being written: its part file and hasher. */
interface Sink {
  handle: Awaited<ReturnType<typeof open>>;
  part: string;
  hasher: Awaited<ReturnType<typeof createBLAKE3>>;
  acked: number;
}

type Phase = 'receiving' | 'waiting' | 'relaying' | 'done' | 'failed';

export class DirectReceive {
  readonly offer: OpenedOffer;
  readonly #options: DirectReceiveOptions;
  readonly #progress: Progress;
  readonly #sinks: (Sink | null)[];
  /** The next record due, per file (a file verified whole: its record count). */
  readonly #next: number[];
  #phase: Phase = 'receiving';
  #connection: ReceiveConnection | null = null;
  #current = 0;
  #done = 0;
  #finished = 0;
  /** Frames are handled one after another, in the order they came (the channel is ordered). */
  #queue = Promise.resolve();
  #settle!: { resolve: () => void; reject: (error: FerryError) => void };
  readonly #result: Promise<void>;
  /** Counts drops, so a relay watch of an earlier drop knows it is stale. */
  #drops = 0;
  #relayed = false;
  #resumes = 0;

  constructor(offer: OpenedOffer, options: DirectReceiveOptions) {
    this.offer = offer;
    this.#options = options;
    const total = offer.ciphers.reduce((n, c) => n + c.size, 0);
    this.#progress = new Progress('receiving', total, { quiet: options.quiet });
    this.#sinks = offer.ciphers.map(() => null);
    this.#next = offer.ciphers.map(() => 0);
    this.#result = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.#result.catch(() => {});
  }

  get transfer(): string {
    return this.offer.transfer;
  }
  /** Whether records are still to come (over a channel, or after a drop). */
  get active(): boolean {
    return this.#phase === 'receiving' || this.#phase === 'waiting';
  }
  /** Whether some records came through the relay share. */
  get relayed(): boolean {
    return this.#relayed;
  }
  /** How many times the transfer continued on a new connection. */
  get resumes(): number {
    return this.#resumes;
  }
  /** The transfer's secret while it waits for the sender: it keys a reconnection's MAC. */
  get resumeSecret(): Uint8Array<ArrayBuffer> | null {
    return this.#phase === 'waiting' ? this.offer.secret : null;
  }

  /** Accepts on `connection` and receives to disk; resolves with the paths once every file is verified. */
  async receive(connection: ReceiveConnection): Promise<string[]> {
    this.#use(connection);
    connection.link.sendControl({ type: 'answer', transfer: this.transfer, accept: true });
    return this.#finish();
  }

  /** Receives every file from the relay share alone (the offer came through the server). */
  async receiveRelayed(): Promise<string[]> {
    this.#phase = 'relaying';
    void this.#readRelay().catch((error: unknown) => this.#fail(asFerryError(error)));
    return this.#finish();
  }

  /**
   * A new connection from the sender, authenticated with this transfer's secret: its
   * `resume` is answered with how far each file is verified once everything received is
   * written, and the records come over it from there.
   */
  resumeOn(connection: ReceiveConnection): void {
    connection.onControl = (message) => {
      if (message.type !== 'resume' || message.transfer !== this.transfer || this.#phase !== 'waiting') {
        this.#onControl(message);
        return;
      }
      void this.#queue.then(() => {
        if (this.#phase !== 'waiting') return;
        this.#use(connection);
        this.#resumes++;
        this.#options.say(`Route: directly from ${this.#options.peerName} again (resumed).`);
        connection.link.sendControl({ type: 'resume-at', transfer: this.transfer, files: [...this.#next] });
      });
    };
    connection.lost.catch(() => {});
  }

  #use(connection: ReceiveConnection): void {
    this.#connection = connection;
    this.#phase = 'receiving';
    let heard = Date.now();
    const stallMs = this.#options.recordStallMs ?? RECORD_STALL_MS;
    const watchdog = setInterval(
      () => {
        if (this.#connection !== connection || this.#phase !== 'receiving') {
          clearInterval(watchdog);
          return;
        }
        if (Date.now() - heard < stallMs) return;
        clearInterval(watchdog);
        const silent = `nothing arrived for ${Math.round(stallMs / 1000)} s`;
        connection.close(new FerryError('NETWORK_ERROR', silent));
      },
      Math.min(1000, stallMs / 4),
    );
    connection.lost.catch(() => clearInterval(watchdog));
    connection.onBinary = (bytes) => {
      heard = Date.now();
      if (this.#connection !== connection || this.#phase !== 'receiving') return;
      const frame = decodeFrame(bytes);
      this.#enqueue(async () => {
        if (!frame.ok) throw frameRefusal(frame);
        await this.#write(frame.file, frame.first, frame.records);
      });
    };
    connection.onControl = (message) => this.#onControl(message);
    connection.lost.catch((error: unknown) => {
      if (this.#connection === connection) this.#lost(asFerryError(error));
    });
  }

  #onControl(message: ControlMessage): void {
    if (message.type === 'cancel' && message.transfer === this.transfer) {
      this.#fail(new FerryError(message.code, message.message), false);
    }
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue
      .then(async () => {
        if (this.#phase === 'failed' || this.#phase === 'done') return;
        await step();
      })
      .catch((error: unknown) => this.#fail(asFerryError(error)));
  }

  /** The channel dropped: wait for the sender to resume or switch to the relay share. */
  #lost(error: FerryError): void {
    this.#connection = null;
    if (this.#phase !== 'receiving') return;
    this.#phase = 'waiting';
    this.#options.say(
      `The connection to ${this.#options.peerName} was lost (${error.message}); waiting for it to resume or continue through Ferry's server…`,
    );
    void this.#watchRelay(++this.#drops).catch((failure: unknown) => this.#fail(asFerryError(failure)));
  }

  /** While waiting: looks for the relay share; once it is there, the rest comes from it. */
  async #watchRelay(drop: number): Promise<void> {
    const waiting = () => this.#phase === 'waiting' && this.#drops === drop;
    const shareId = await relayShareId(this.offer.secret);
    const until = Date.now() + (this.#options.relayWaitMs ?? RELAY_WAIT_MS);
    const found = await waitForRelayShare(shareId, until, () => !waiting(), this.#options.server);
    if (!waiting()) return;
    if (!found)
      throw new FerryError(
        'NETWORK_ERROR',
        `${this.#options.peerName} did not come back, directly or through the server.`,
      );
    this.#phase = 'relaying';
    // Whatever the channel delivered is written first, so the relay starts where it ended.
    await this.#queue;
    await this.#readRelay();
  }

  /** Reads every file not yet whole from the relay share, each from its first record lacking. */
  async #readRelay(): Promise<void> {
    this.#relayed = true;
    this.#options.say(`Route: through Ferry's server (relay) from ${this.#options.peerName}.`);
    const { secret, ciphers, manifest } = this.offer;
    const shareId = await relayShareId(secret);
    const { readerToken } = await deriveShareKeys(secret);
    const base = this.#options.server;
    const pending = ciphers.flatMap((cipher, i) => (this.#next[i]! < recordCount(cipher) ? [i] : []));
    const ticket = await relayTicket(shareId, readerToken, pending, base);
    for (const index of pending) {
      await readFromRelay({
        base,
        shareId,
        readerToken,
        ticket,
        index,
        layout: ciphers[index]!,
        name: manifest.files[index]!.name,
        from: this.#next[index]!,
        onRecord: (record, sealed) => this.#write(index, record, [sealed]),
        stopped: () => this.#phase !== 'relaying',
      });
    }
  }

  async #finish(): Promise<string[]> {
    try {
      await this.#result;
      this.#progress.finish();
      return this.offer.targets;
    } catch (error) {
      await this.#queue;
      // Nothing that failed is kept, not even as a part file.
      for (const sink of this.#sinks) {
        if (!sink) continue;
        await sink.handle.close().catch(() => undefined);
        await rm(sink.part, { force: true });
      }
      throw error;
    }
  }

  /** Ends it with `error`; the sender is told over the channel when one is up (`tell`). */
  #fail(error: FerryError, tell = true): void {
    if (this.#phase === 'failed' || this.#phase === 'done') return;
    this.#phase = 'failed';
    if (tell) {
      try {
        this.#connection?.link.sendControl({
          type: 'cancel',
          transfer: this.transfer,
          code: error.code,
          message: error.message.slice(0, 500),
        });
      } catch {
        // The connection is already gone.
      }
    }
    this.#settle.reject(error);
  }

  #send(message: ControlMessage): void {
    try {
      this.#connection?.link.sendControl(message);
    } catch {
      // Gone: the drop is handled where the connection reports it.
    }
  }

  async #openSink(index: number): Promise<Sink> {
    const part = `${this.offer.targets[index]!}${PART_SUFFIX}`;
    await mkdir(path.dirname(part), { recursive: true });
    const sink: Sink = { handle: await open(part, 'w'), part, hasher: await createBLAKE3(), acked: 0 };
    this.#sinks[index] = sink;
    return sink;
  }

  async #finishFile(index: number, sink: Sink): Promise<void> {
    const file = this.offer.manifest.files[index]!;
    if (sink.hasher.digest('hex') !== file.blake3) {
      throw new FerryError('FILE_HASH_MISMATCH', `${file.name} failed verification: its BLAKE3 hash differs.`);
    }
    await sink.handle.sync();
    await sink.handle.close();
    await rename(sink.part, this.offer.targets[index]!);
    this.#sinks[index] = null;
    this.#finished++;
  }

  /** Opens, writes and hashes records [first, first + records.length) of one file, in order. */
  async #write(fileIndex: number, first: number, records: Uint8Array<ArrayBuffer>[]): Promise<void> {
    const { ciphers } = this.offer;
    const cipher = ciphers[fileIndex];
    if (!cipher || fileIndex < this.#current) {
      throw new FerryError('INVALID_MESSAGE', 'The sender sent data that does not belong to this transfer.');
    }
    // Files come one after another; one that has no records left to come is empty or done.
    while (this.#current < fileIndex) {
      if (this.#next[this.#current]! < recordCount(ciphers[this.#current]!)) {
        throw new FerryError(
          'RECORD_TRUNCATED',
          `${ciphers[this.#current]!.name}: the sender moved on before its last record.`,
        );
      }
      this.#current++;
    }
    const sink = this.#sinks[fileIndex] ?? (await this.#openSink(fileIndex));
    if (first !== this.#next[fileIndex]) {
      throw new FerryError(
        'INVALID_MESSAGE',
        `${cipher.name}: record ${first} came where ${this.#next[fileIndex]} was due.`,
      );
    }
    const plains = await Promise.all(records.map((sealed, n) => decryptRecord(cipher, first + n, sealed)));
    for (const [n, plain] of plains.entries()) {
      const [at] = plainRange(cipher, first + n);
      await sink.handle.write(plain, 0, plain.length, at);
      sink.hasher.update(plain);
      this.#done += plain.length;
    }
    const next = first + records.length;
    this.#next[fileIndex] = next;
    this.#progress.update(this.#done);
    const last = next === recordCount(cipher);
    const bytes = plainRange(cipher, next - 1)[1];
    if (last) await this.#finishFile(fileIndex, sink);
    if (last || bytes - sink.acked >= ACK_EVERY_BYTES) {
      sink.acked = bytes;
      this.#send({ type: 'ack', transfer: this.transfer, file: fileIndex, verified: next });
    }
    if (this.#finished === ciphers.length) {
      this.#phase = 'done';
      this.#send({ type: 'complete', transfer: this.transfer });
      this.#settle.resolve();
    }
  }
}
