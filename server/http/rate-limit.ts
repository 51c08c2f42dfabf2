/**
 * A token bucket per key (a client network, a share): `burst` at once, refilled at
 * `perMinute`. Refusals are RATE_LIMITED (429) with Retry-After: the seconds until the
 * next token (RFC 9110 §10.2.3).
 */
import { HeaderedError } from './respond.ts';

const MAX_KEYS = 10_000;

export class RateLimiter {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #message: string;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    burst: number,
    perMinute: number,
    message = 'Too many shares created from this address; try again in a minute.',
  ) {
    this.#burst = burst;
    this.#perMs = perMinute / 60_000;
    this.#message = message;
  }

  /** Takes one token for `key` or throws RATE_LIMITED with Retry-After. */
  take(key: string, now: number): void {
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      const seconds = this.#perMs > 0 ? Math.ceil((1 - bucket.tokens) / this.#perMs / 1000) : 3600;
      throw new HeaderedError('RATE_LIMITED', this.#message, { 'Retry-After': String(Math.max(1, seconds)) });
    }
    bucket.tokens -= 1;
    if (this.#buckets.size > MAX_KEYS) this.prune(now);
  }

  /** Forgets buckets that have refilled completely (they behave like new ones). */
  prune(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#perMs >= this.#burst) this.#buckets.delete(key);
    }
  }
}
