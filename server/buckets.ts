/**
 * Token buckets by key, shared by every node that counts the same thing: how many shares an
 * address creates, download tickets, pairing codes made and wrong codes entered. In this
 * process's memory (one node) or in Redis (redis-buckets.ts, any number of nodes), picked by
 * coordination.ts; both pass buckets.conformance.ts. Time is passed in (the server's
 * injectable clock), so tests can move a fake clock on either.
 */
import { TokenBucket } from './signaling/token-bucket.ts';

/** What a take found: taken, or the milliseconds until a token (Infinity: never refills). */
export type Take = { ok: true } | { ok: false; retryMs: number };

/** Buckets of one kind, one per key: `burst` tokens at once, refilled continuously. */
export interface Buckets {
  /** Takes one token from `key`'s bucket at `now`; when it is empty nothing is taken. */
  take(key: string, now: number): Promise<Take>;
  /** Whether `key`'s bucket has a token at `now`, without taking it. */
  available(key: string, now: number): Promise<boolean>;
}

/** Makes the buckets named `name`: `burst` at once, `perMs` tokens back per millisecond. */
export type BucketsFactory = (name: string, burst: number, perMs: number) => Buckets;

/** Beyond this many keys, buckets that have refilled completely are forgotten. */
const MAX_KEYS = 10_000;

/** One process's buckets; a bucket is forgotten once full again (it then behaves like a new one). */
export class MemoryBuckets implements Buckets {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(burst: number, perMs: number) {
    this.#burst = burst;
    this.#perMs = perMs;
  }

  async available(key: string, now: number): Promise<boolean> {
    return this.#buckets.get(key)?.available(now) ?? this.#burst >= 1;
  }

  async take(key: string, now: number): Promise<Take> {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= MAX_KEYS) this.prune(now);
      bucket = new TokenBucket(this.#burst, this.#perMs, now);
      this.#buckets.set(key, bucket);
    }
    if (bucket.take(now)) return { ok: true };
    return { ok: false, retryMs: this.#perMs > 0 ? Math.ceil(bucket.missing(now) / this.#perMs) : Infinity };
  }

  prune(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.full(now)) this.#buckets.delete(key);
  }
}

/** Memory buckets for every name: one node. */
export const memoryBuckets: BucketsFactory = (_name, burst, perMs) => new MemoryBuckets(burst, perMs);
