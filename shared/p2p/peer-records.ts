/**
 * The recipient's side of one pull (share-pull.svelte.ts): the ciphertext of a file from a
 * record on, as one byte stream that decrypt-file.ts reads exactly like the server's Range
 * response. Records come from the sender's tab over the data channel; when the peer goes
 * away (the channel closed, the sender refused, a frame out of order, or nothing for
 * PEER_STALL_MS) the records already received are handed on and the stream continues with
 * the server's ciphertext from the first record it lacks (Range). Either way every record
 * is then authenticated by the same decrypt and verify path, so nothing here is trusted.
 *
 * Memory: the sender runs at most a window ahead of the acknowledgements (pull-window.ts),
 * so at most WINDOW_RECORDS records wait here.
 */
import { cipherRange, type RecordLayout, recordCount } from '../records.ts';
import { ACK_EVERY_RECORDS } from './pull-window.ts';

/** With no record from the peer for this long, the rest comes from the server. */
export const PEER_STALL_MS = 15_000;

export type RecordSource = 'peer' | 'server';

/** What a pull says to the sender's tab (control messages `pull`, `pull-ack`, `pull-stop`). */
export interface PullChannel {
  pull(from: number): void;
  ack(next: number): void;
  stop(): void;
}

export interface PeerRecordsOptions {
  layout: RecordLayout;
  /** The first record to fetch. */
  from: number;
  channel: PullChannel;
  /** The server's ciphertext from `offset` (a record boundary) to the end of the file. */
  fromServer: (offset: number) => Promise<ReadableStream<Uint8Array>>;
  /** Called when the records start coming from the peer, and when they switch to the server. */
  onSource: (source: RecordSource) => void;
  /**
   * The record the server's part starts at, given the first one lacking (default: that
   * one). Starting earlier fills any gap between what the sender reported to the server
   * and what arrived, so the ticket's coverage has no hole; the extra bytes are dropped.
   */
  rewind?: (next: number) => number;
  stallMs?: number;
}

export class PeerRecords {
  readonly stream: ReadableStream<Uint8Array>;
  readonly #options: PeerRecordsOptions;
  readonly #count: number;
  /** Records received from the peer, in order, not yet handed on. */
  #queue: Uint8Array[] = [];
  /** The next record expected from the peer. */
  #received: number;
  /** The next record to hand on. */
  #next: number;
  #peerGone = false;
  #server: ReadableStreamDefaultReader<Uint8Array> | null = null;
  /** Bytes at the start of the server's part that were already handed on. */
  #skip = 0;
  #wake: (() => void) | null = null;

  constructor(options: PeerRecordsOptions) {
    this.#options = options;
    this.#count = recordCount(options.layout);
    if (!Number.isInteger(options.from) || options.from < 0 || options.from >= this.#count) {
      throw new RangeError(`no record ${options.from} to pull`);
    }
    this.#received = options.from;
    this.#next = options.from;
    options.channel.pull(options.from);
    options.onSource('peer');
    this.stream = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.#pull(controller),
        cancel: (reason) => {
          this.#leavePeer();
          return this.#server?.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** A record frame of this file from the peer. One out of order means the peer cannot be followed. */
  push(record: number, sealed: Uint8Array): void {
    if (this.#peerGone) return;
    if (record !== this.#received) {
      this.lost();
      return;
    }
    this.#queue.push(sealed);
    this.#received++;
    this.#wakeUp();
  }

  /** The peer is gone or refused the pull: what is queued is handed on, then the server takes over. */
  lost(): void {
    if (this.#peerGone) return;
    this.#leavePeer();
    this.#wakeUp();
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      if (this.#next >= this.#count && this.#server === null) {
        controller.close();
        return;
      }
      const sealed = this.#queue.shift();
      if (sealed) {
        controller.enqueue(sealed);
        this.#next++;
        const consumed = this.#next - this.#options.from;
        if (!this.#peerGone && (consumed % ACK_EVERY_RECORDS === 0 || this.#next === this.#count)) {
          this.#options.channel.ack(this.#next);
        }
        return;
      }
      if (this.#peerGone) {
        if (!this.#server) {
          this.#options.onSource('server');
          const { layout, rewind } = this.#options;
          const first = Math.min(this.#next, Math.max(0, rewind?.(this.#next) ?? this.#next));
          const [offset] = cipherRange(layout, first);
          this.#skip = cipherRange(layout, this.#next)[0] - offset;
          this.#server = (await this.#options.fromServer(offset)).getReader();
        }
        const { done, value } = await this.#server.read();
        if (done) {
          controller.close();
          this.#server = null;
          return;
        }
        const dropped = Math.min(this.#skip, value.length);
        this.#skip -= dropped;
        if (dropped < value.length) {
          controller.enqueue(value.subarray(dropped));
          return;
        }
        continue;
      }
      await this.#nextFrame();
    }
  }

  /** Waits for a frame (or the peer's loss); nothing for PEER_STALL_MS counts as a loss. */
  async #nextFrame(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      timer = setTimeout(() => this.lost(), this.#options.stallMs ?? PEER_STALL_MS);
    });
    clearTimeout(timer);
  }

  #leavePeer(): void {
    if (this.#peerGone) return;
    this.#peerGone = true;
    try {
      this.#options.channel.stop();
    } catch {
      // The channel is already gone: there is nobody to tell.
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
