/**
 * Pacing of one pull on the sender's side (share-host.svelte.ts). The data channel's own
 * backpressure (peer-link.ts) only bounds what sits in the sender's send queue; a recipient
 * writing to a slow disk would still let records pile up in its memory. So the sender runs
 * at most WINDOW_RECORDS ahead of the last `pull-ack` (the recipient's records consumed),
 * and the recipient acknowledges every ACK_EVERY_RECORDS: memory on both sides stays at
 * about one window (4 MiB with 64 KiB records) whatever the file size.
 */

/** Records the sender may send beyond the recipient's last acknowledgement. */
export const WINDOW_RECORDS = 64;
/** The recipient acknowledges after consuming this many records (a quarter of the window). */
export const ACK_EVERY_RECORDS = 16;

export class PullWindow {
  /** The next record to send. */
  #next: number;
  /** Records [0, acked) were consumed by the recipient. */
  #acked: number;
  readonly #end: number;
  #stopped = false;
  #wake: (() => void) | null = null;

  /** Records [from, end) of a file; `end` is its record count. */
  constructor(from: number, end: number) {
    if (!Number.isInteger(from) || !Number.isInteger(end) || from < 0 || from >= end) {
      throw new RangeError(`no records from ${from} in a file of ${end}`);
    }
    this.#next = from;
    this.#acked = from;
    this.#end = end;
  }

  get next(): number {
    return this.#next;
  }
  get stopped(): boolean {
    return this.#stopped;
  }
  /** Every record was handed to the channel. */
  get done(): boolean {
    return this.#next >= this.#end;
  }

  /** How many records may be sent now (0: wait for an ack). */
  get room(): number {
    return Math.max(0, Math.min(this.#acked + WINDOW_RECORDS, this.#end) - this.#next);
  }

  /** `count` records starting at `next` were handed to the channel. */
  sent(count: number): void {
    if (count < 0 || count > this.room) throw new RangeError(`${count} records do not fit the window`);
    this.#next += count;
  }

  /** The recipient consumed records [0, next); acks never go backwards or past what was sent. */
  ack(next: number): void {
    if (next <= this.#acked) return;
    this.#acked = Math.min(next, this.#next);
    this.#wakeUp();
  }

  /** Stops the pull; a waiting `whenRoom` resolves and the sender sees `stopped`. */
  stop(): void {
    this.#stopped = true;
    this.#wakeUp();
  }

  /** Resolves once there is room to send, or the pull stopped. */
  async whenRoom(): Promise<void> {
    while (!this.#stopped && this.room === 0 && !this.done) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
