/**
 * A token bucket: one per signaling connection (message floods), and each key's bucket of
 * the memory Buckets (buckets.ts). Time is passed in, so the bucket is pure and tests can
 * move a fake clock.
 */

/** `burst` tokens at once, refilled continuously at `perMs` tokens per millisecond. */
export class TokenBucket {
  readonly #burst: number;
  readonly #perMs: number;
  #tokens: number;
  #at: number;

  constructor(burst: number, perMs: number, now: number) {
    this.#burst = burst;
    this.#perMs = perMs;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Whether a token is available at `now`, without taking it. */
  available(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= 1;
  }

  /** Takes a token; false (and nothing taken) when the bucket is empty. */
  take(now: number): boolean {
    if (!this.available(now)) return false;
    this.#tokens -= 1;
    return true;
  }

  /** How much of a token is missing at `now` before one can be taken (0 when one can). */
  missing(now: number): number {
    this.#refill(now);
    return Math.max(0, 1 - this.#tokens);
  }

  /** Whether the bucket is full again at `now` (it then behaves like a new one). */
  full(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.#burst;
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#at) * this.#perMs);
    this.#at = now;
  }
}
