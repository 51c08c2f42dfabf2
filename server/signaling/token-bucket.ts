/**
 * Token buckets for the signaling limits: one per connection (message floods) and one per
 * client network (pairing codes created, wrong codes entered). Time is passed in, so the
 * buckets are pure and tests can move a fake clock.
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

const MAX_KEYS = 10_000;

/** One TokenBucket per key (a client network), forgotten once full again. */
export class KeyedBuckets {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #buckets = new Map<string, TokenBucket>();

  /** `count` tokens per `windowMs`, all of them available at once. */
  constructor(count: number, windowMs: number) {
    this.#burst = count;
    this.#perMs = count / windowMs;
  }

  available(key: string, now: number): boolean {
    return this.#buckets.get(key)?.available(now) ?? true;
  }

  take(key: string, now: number): boolean {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= MAX_KEYS) this.prune(now);
      bucket = new TokenBucket(this.#burst, this.#perMs, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(now);
  }

  prune(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.full(now)) this.#buckets.delete(key);
  }
}
