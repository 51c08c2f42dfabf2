/** A token bucket per key (client address): `burst` at once, refilled at `perMinute`. */
import { FerryError } from '../../shared/errors.ts';

const MAX_KEYS = 10_000;

export class RateLimiter {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(burst: number, perMinute: number) {
    this.#burst = burst;
    this.#perMs = perMinute / 60_000;
  }

  /** Takes one token for `key` or throws RATE_LIMITED. */
  take(key: string, now: number): void {
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.#buckets.set(key, bucket);
      throw new FerryError('RATE_LIMITED', 'Too many shares created from this address; try again in a minute.');
    }
    bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > MAX_KEYS) this.prune(now);
  }

  /** Forgets buckets that have refilled completely (they behave like new ones). */
  prune(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#perMs >= this.#burst) this.#buckets.delete(key);
    }
  }
}
