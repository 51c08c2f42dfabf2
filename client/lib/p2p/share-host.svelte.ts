/**
 * The sender's tab serving its share link directly: while the share is live and the tab
 * still holds the picked files, it sits in the signaling room `share:<id>` (owner token)
 * and answers each recipient that connects (share-channel.ts: MAC mode keyed from the link
 * secret, so nothing is served before the recipient proved it holds the link). A `pull`
 * of file i from record N is answered with records N… sealed again by the encrypt worker
 * under the same key, nonce base and indices, so they are byte for byte the ciphertext the
 * server holds (ARCHITECTURE.md "The record stream"), paced by PullWindow.
 *
 * Download limits hold as for the server: a pull names the recipient's download ticket,
 * which the server granted under the limit; the tab checks it with the server before the
 * first record, and reports the ciphertext it sent against it (peer-coverage.ts), so the server completes and counts the download exactly
 * as if it had sent those bytes itself. A ticket the server refuses ends the pull.
 * Expiry is checked before every pull and between batches; revoking in this tab stops
 * serving at once (`stop`), and the server's refusal of a report ends it too.
 */
import { fromBase64Url } from '../../../shared/encoding.ts';
import { FerryError } from '../../../shared/errors.ts';
import { deriveShareKeys } from '../../../shared/keys.ts';
import { fileCipher } from '../../../shared/manifest.ts';
import { type ControlMessage, type ControlMessageOf, encodeRecordFrame } from '../../../shared/p2p/frames.ts';
import { PullWindow } from '../../../shared/p2p/pull-window.ts';
import { cipherRange, type FileCipher, recordCount } from '../../../shared/records.ts';
import { reportPeerCoverage } from '../api/share-client.ts';
import type { ShareRecord } from '../store/db.ts';
import { Encryptor } from '../transfer/send/encryptor.ts';
import { manifestOf } from '../transfer/send/share-plan.ts';
import { PeerCoverage } from './peer-coverage.ts';
import { ShareChannel } from './share-channel.ts';
import type { ShareHostContext } from './share-control/context.ts';
import { dispatchShareControl } from './share-control/dispatch.ts';
import { SHARE_HOST_HANDLERS } from './share-control/index.ts';
import type { SignalingClient } from './signaling.svelte.ts';

/** Recipients served at once; more get the server (each connection costs the sender's CPU). */
export const MAX_RECIPIENTS = 8;
/** Records sealed per request to the encrypt worker (1 MiB with 64 KiB records). */
const BATCH_RECORDS = 16;

/** Reports ciphertext sent to a ticket's holder (share-client.ts reportPeerCoverage). */
export type CoverageReporter = typeof reportPeerCoverage;

/** A share made in this tab, with what serving it needs. */
export interface HostedShare {
  id: string;
  ownerToken: string;
  secret: Uint8Array<ArrayBuffer>;
  /** Ms since the epoch. */
  expiresAt: number;
  /** The files this tab still holds, by index, with the cipher each was uploaded under. */
  files: ReadonlyMap<number, { file: File; cipher: FileCipher }>;
}

/** What serving a stored share needs, or null when it must not be served directly: revoked, expired, or no file held. */
export async function hostedShareOf(
  record: ShareRecord,
  held: ReadonlyMap<number, File> | undefined,
  now = Date.now(),
): Promise<HostedShare | null> {
  if (!held || held.size === 0 || record.state !== 'ready') return null;
  if (record.expiresAt <= now || !record.secret) return null;
  const secret = fromBase64Url(record.secret);
  const { contentKey } = await deriveShareKeys(secret);
  const manifest = manifestOf(record.files);
  const files = new Map<number, { file: File; cipher: FileCipher }>();
  for (const [index, file] of held) {
    const entry = manifest.files[index];
    if (entry && entry.size === file.size) files.set(index, { file, cipher: await fileCipher(entry, contentKey) });
  }
  return { id: record.id, ownerToken: record.ownerToken, secret, expiresAt: record.expiresAt, files };
}

interface Pull {
  window: PullWindow;
}

export class ShareHost {
  readonly #signaling: SignalingClient;
  #share = $state.raw<HostedShare | null>(null);
  #channels = new Map<string, ShareChannel>();
  /** Peers in the share room as recipients: only they may connect. */
  #readers = new Set<string>();
  /** Running pulls per channel and file. */
  #pulls = new Map<ShareChannel, Map<number, Pull>>();
  #encryptor: Encryptor | null = null;
  #fileIds = new Map<number, number>();
  #sending = $state(0);
  #unsubscribe: (() => void)[] = [];

  readonly #report: CoverageReporter;

  constructor(signaling: SignalingClient, report: CoverageReporter = reportPeerCoverage) {
    this.#signaling = signaling;
    this.#report = report;
  }

  /** How many files are being sent directly to recipients right now. */
  get sending(): number {
    return this.#sending;
  }
  get shareId(): string | null {
    return this.#share?.id ?? null;
  }

  /** Serves `share` (instead of any other); joins its room now and after every reconnect. */
  host(share: HostedShare): void {
    if (this.#share?.id === share.id) {
      this.#share = share; // extended: a new expiry
      return;
    }
    this.stop();
    this.#share = share;
    this.#unsubscribe = [
      this.#signaling.on('welcome', () => this.#join()),
      this.#signaling.on('relay', (message) => {
        if (message.kind !== 'share-signal') return;
        this.#channel(message.from)?.signal(message.data);
      }),
      this.#signaling.on('share-room', ({ room, peers }) => {
        if (room !== `share:${share.id}`) return;
        this.#readers = new Set(peers.filter((p) => p.role === 'reader').map((p) => p.id));
        for (const [peerId, channel] of this.#channels) {
          if (!peers.some((p) => p.id === peerId))
            channel.close(new FerryError('NETWORK_ERROR', 'The recipient left.'));
        }
      }),
      this.#signaling.on('error', (message) => {
        // The server refused the room (the share expired or was revoked): stop serving.
        if (message.of === 'share-join') this.stop();
      }),
    ];
    this.#signaling.start();
    this.#join();
  }

  /** Stops serving: leaves the room, closes every channel, ends the encrypt worker. */
  stop(): void {
    for (const stop of this.#unsubscribe) stop();
    this.#unsubscribe = [];
    const share = this.#share;
    this.#share = null;
    this.#readers.clear();
    if (share) this.#signaling.leaveShare(share.id);
    for (const channel of [...this.#channels.values()]) {
      channel.close(new FerryError('ABORTED', 'The sender stopped sharing directly.'));
    }
    this.#encryptor?.terminate();
    this.#encryptor = null;
    this.#fileIds.clear();
  }

  #join(): void {
    const share = this.#share;
    if (share && this.#live(share)) this.#signaling.joinShare(share.id, 'owner', share.ownerToken);
  }

  #live(share: HostedShare): boolean {
    if (Date.now() < share.expiresAt) return true;
    this.stop();
    return false;
  }

  /** The channel to a recipient, made when it first signals (only from someone in the room as a reader). */
  #channel(peerId: string): ShareChannel | null {
    const existing = this.#channels.get(peerId);
    if (existing) return existing;
    const share = this.#share;
    if (!share || !this.#readers.has(peerId) || this.#channels.size >= MAX_RECIPIENTS || !this.#live(share)) {
      return null;
    }
    const channel = new ShareChannel(this.#signaling, peerId, false, share.secret, {
      control: (message) => this.#onControl(channel, message),
      frame: () => channel.close(new FerryError('INVALID_MESSAGE', 'A recipient does not send records.')),
      close: () => {
        for (const pull of this.#pulls.get(channel)?.values() ?? []) pull.window.stop();
        this.#pulls.delete(channel);
        if (this.#channels.get(peerId) === channel) this.#channels.delete(peerId);
      },
    });
    this.#channels.set(peerId, channel);
    this.#pulls.set(channel, new Map());
    return channel;
  }

  #onControl(channel: ShareChannel, message: ControlMessage): void {
    const pulls = this.#pulls.get(channel);
    if (!pulls) return;
    dispatchShareControl(SHARE_HOST_HANDLERS, this.#contextOf(channel, pulls), message);
  }

  /** What share-control's handlers may do for a message from the recipient on `channel`. */
  #contextOf(channel: ShareChannel, pulls: Map<number, Pull>): ShareHostContext {
    return {
      from: 'A recipient',
      close: (error) => channel.close(error),
      serve: (message) => void this.serve(channel, message),
      pull: (file) => pulls.get(file)?.window,
      forget: (file) => pulls.delete(file),
    };
  }

  /** Sends records `from`… of a file on `channel`; refuses what this tab cannot serve. */
  async serve(channel: ShareChannel, { file: index, from, ticket }: ControlMessageOf<'pull'>): Promise<void> {
    const pulls = this.#pulls.get(channel);
    const share = this.#share;
    const held = share?.files.get(index);
    if (!pulls) return;
    pulls.get(index)?.window.stop();
    pulls.delete(index);
    if (!share || !this.#live(share)) {
      channel.send({ type: 'pull-refused', file: index, code: 'SHARE_EXPIRED', message: 'The link has ended.' });
      return;
    }
    if (!held || from >= recordCount(held.cipher)) {
      const message = held ? 'There is no such record.' : 'The sender no longer has this file open.';
      channel.send({ type: 'pull-refused', file: index, code: held ? 'INVALID_RANGE' : 'FILE_NOT_FOUND', message });
      return;
    }
    const pull: Pull = { window: new PullWindow(from, recordCount(held.cipher)) };
    pulls.set(index, pull);
    this.#sending++;
    const coverage = new PeerCoverage(
      (start, end) => this.#report(share.id, share.ownerToken, { ticket, file: index, start, end }),
      cipherRange(held.cipher, from)[0],
    );
    try {
      await coverage.check();
      await this.#send(channel, index, held, pull.window, coverage);
    } catch (error) {
      if (channel.open && !pull.window.stopped) {
        const failure = error instanceof FerryError ? error : new FerryError('INTERNAL', 'The file could not be read.');
        channel.send({ type: 'pull-refused', file: index, code: failure.code, message: failure.message.slice(0, 500) });
      }
    } finally {
      this.#sending--;
      if (pulls.get(index) === pull) pulls.delete(index);
      // What was handed to the channel counts, as the server counts what its socket took.
      await coverage.flush();
    }
  }

  async #send(
    channel: ShareChannel,
    index: number,
    held: { file: File; cipher: FileCipher },
    window: PullWindow,
    coverage: PeerCoverage,
  ): Promise<void> {
    const { cipher } = held;
    const fileId = this.#open(index, held);
    const encryptor = this.#encryptor;
    if (!encryptor) return;
    const last = recordCount(cipher);
    /** Records [first, first + count) sealed in one worker request. */
    const seal = (first: number) => {
      const count = Math.min(BATCH_RECORDS, last - first);
      const start = cipherRange(cipher, first)[0];
      const end = cipherRange(cipher, first + count - 1)[1];
      // Whole records: one array per record.
      const records = encryptor.records(fileId, start, end);
      records.catch(() => {}); // awaited below unless the pull stops first
      return { first, count, end, records };
    };
    // The next batch is sealed while this one is sent: at most two batches (2 MiB) are held.
    let batch = seal(window.next);
    for (;;) {
      const sealed = await batch.records;
      const { first, count, end } = batch;
      if (first + count < last) batch = seal(first + count);
      for (let i = 0; i < count; i++) {
        await window.whenRoom();
        if (window.stopped || !channel.open) return;
        const record = sealed[i];
        if (!record) throw new FerryError('INTERNAL', `Record ${first + i} was not sealed.`);
        // Counted before it is queued: an ack for it may come back before sendFrame returns.
        window.sent(1);
        await channel.sendFrame(encodeRecordFrame(index, first + i, record));
      }
      coverage.sent(end);
      if (window.done) return;
      const share = this.#share;
      if (!share || !this.#live(share)) throw new FerryError('SHARE_EXPIRED', 'The link has ended.');
      if (coverage.refused) throw coverage.refused;
    }
  }

  /** The encrypt worker's id for file `index`, opened once with its key and nonce base. */
  #open(index: number, { file, cipher }: { file: File; cipher: FileCipher }): number {
    this.#encryptor ??= new Encryptor();
    let fileId = this.#fileIds.get(index);
    if (fileId === undefined) {
      fileId = this.#encryptor.open({
        file,
        key: cipher.key,
        nonceBase: cipher.nonceBase,
        recordSize: cipher.recordSize,
        name: cipher.name,
      });
      this.#fileIds.set(index, fileId);
    }
    return fileId;
  }
}
