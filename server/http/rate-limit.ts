/**
 * A token bucket per key (a client network, a share): `burst` at once, refilled at
 * `perMinute`, in memory or in Redis (buckets.ts, shared by all nodes). Refusals are
 * RATE_LIMITED (429) with Retry-After: the seconds until the next token (RFC 9110 §10.2.3).
 * With Redis away a take fails with ENGINE_UNAVAILABLE (503): the request is refused, not held.
 */
import type { Buckets, BucketsFactory } from '../buckets.ts';
import { HeaderedError } from './respond.ts';

/** Retry-After of a bucket that never refills. */
const NEVER_S = 3600;

export class RateLimiter {
  readonly #buckets: Buckets;
  readonly #message: string;

  /** Buckets named `name` from `buckets`, `burst` at once and `perMinute` back. */
  constructor(
    buckets: BucketsFactory,
    name: string,
    { burst, perMinute }: { burst: number; perMinute: number },
    message = 'Too many shares created from this address; try again in a minute.',
  ) {
    this.#buckets = buckets(name, burst, perMinute / 60_000);
    this.#message = message;
  }

  /** Takes one token for `key` or throws RATE_LIMITED with Retry-After. */
  async take(key: string, now: number): Promise<void> {
    const taken = await this.#buckets.take(key, now);
    if (taken.ok) return;
    const seconds = Number.isFinite(taken.retryMs) ? Math.ceil(taken.retryMs / 1000) : NEVER_S;
    throw new HeaderedError('RATE_LIMITED', this.#message, { 'Retry-After': String(Math.max(1, seconds)) });
  }
}
