/**
 * What the sender's tab tells the server about one pull (server/shares/peer-coverage.ts):
 * the ciphertext [start, sent) it handed to the channel for the recipient's ticket, every
 * REPORT_BYTES and at the end, as get-file.ts records what its socket took every 1 MiB.
 * Reports run one after another in the background, so the channel never waits for the
 * server; the first one (an empty range) is awaited, because no record may leave before
 * the server knows the ticket. A refusal is kept and ends the pull at its next batch.
 */
import { FerryError } from '../../../shared/errors.ts';

/** Sent bytes are reported at least this often; the recipient's fallback rewinds further (resume.ts REWIND_BYTES). */
export const REPORT_BYTES = 1024 * 1024;

export class PeerCoverage {
  readonly #report: (start: number, end: number) => Promise<unknown>;
  readonly #start: number;
  #sent: number;
  /** The end of the last report queued. */
  #queued: number;
  #chain: Promise<void> = Promise.resolve();
  #refused: FerryError | null = null;

  /** `report(start, end)` sends one report; the pull's ciphertext starts at `start`. */
  constructor(report: (start: number, end: number) => Promise<unknown>, start: number) {
    this.#report = report;
    this.#start = start;
    this.#sent = start;
    this.#queued = start;
  }

  /** Why the server refused a report (the ticket lapsed, the share ended), or null. */
  get refused(): FerryError | null {
    return this.#refused;
  }

  /** Checks the ticket before anything is sent; throws the server's refusal. */
  async check(): Promise<void> {
    await this.#report(this.#start, this.#start);
  }

  /** Ciphertext up to `end` was handed to the channel. */
  sent(end: number): void {
    this.#sent = Math.max(this.#sent, end);
    if (this.#sent - this.#queued >= REPORT_BYTES) this.#queue();
  }

  /** Reports whatever is not reported yet and waits for every report. */
  async flush(): Promise<void> {
    if (this.#sent > this.#queued) this.#queue();
    await this.#chain;
  }

  #queue(): void {
    const end = this.#sent;
    this.#queued = end;
    this.#chain = this.#chain
      .then(() => this.#report(this.#start, end))
      .then(
        () => undefined,
        (error: unknown) => {
          this.#refused ??=
            error instanceof FerryError ? error : new FerryError('NETWORK_ERROR', 'The server could not be told.');
        },
      );
  }
}
