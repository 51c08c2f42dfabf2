/**
 * Token buckets in Redis, shared by every node (buckets.ts has the interface and the memory
 * twin). Each key is one hash {tokens, at}; one Lua script refills and takes atomically, so
 * two nodes taking at once never both get the last token. A key expires when its bucket
 * would be full again: idle keys vanish and a missing key is a full bucket.
 *
 * Time: the caller's clock (the server's injectable `now`), like the memory buckets. A node
 * whose clock is behind the bucket's last refill takes without refilling (never a negative
 * refill), so a skewed node cannot mint tokens.
 */
import type { Redis } from 'ioredis';
import type { Buckets, BucketsFactory, Take } from './buckets.ts';
import { RedisScript } from './redis.ts';

/** A bucket that never refills (perMs 0) is kept this long after its last take. */
const NO_REFILL_TTL_MS = 24 * 3600_000;

/**
 * ARGV: key, burst, perMs, now, cost (1: take, 0: only look), no-refill TTL.
 * Returns {1, 0} (a token is there, and taken when cost is 1) or {0, ms until one is}, -1
 * when it never comes back.
 */
const TAKE = new RedisScript(`
local key = ARGV[1]
local burst = tonumber(ARGV[2])
local perMs = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local cost = tonumber(ARGV[5])
local state = redis.call('HMGET', key, 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
if now > at then
  tokens = math.min(burst, tokens + (now - at) * perMs)
  at = now
end
if tokens < 1 then
  if perMs > 0 then return {0, math.ceil((1 - tokens) / perMs)} end
  return {0, -1}
end
if cost > 0 then
  tokens = tokens - cost
  redis.call('HSET', key, 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', at))
  local ttl = tonumber(ARGV[6])
  if perMs > 0 then ttl = math.max(1, math.ceil((burst - tokens) / perMs)) end
  redis.call('PEXPIRE', key, ttl)
end
return {1, 0}
`);

export class RedisBuckets implements Buckets {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #burst: number;
  readonly #perMs: number;

  /** Buckets under `prefix` (a key is `prefix` + the caller's key). */
  constructor(redis: Redis, prefix: string, burst: number, perMs: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#burst = burst;
    this.#perMs = perMs;
  }

  async take(key: string, now: number): Promise<Take> {
    const [ok, retryMs] = await this.#run(key, now, 1);
    if (ok === 1) return { ok: true };
    return { ok: false, retryMs: retryMs < 0 ? Infinity : retryMs };
  }

  async available(key: string, now: number): Promise<boolean> {
    const [ok] = await this.#run(key, now, 0);
    return ok === 1;
  }

  async #run(key: string, now: number, cost: number): Promise<[number, number]> {
    return (await TAKE.run(this.#redis, [
      this.#prefix + key,
      this.#burst,
      this.#perMs,
      now,
      cost,
      NO_REFILL_TTL_MS,
    ])) as [number, number];
  }
}

/** Buckets in `redis`, each name under `prefix`name`:`. */
export function redisBuckets(redis: Redis, prefix = 'ferry:limit:'): BucketsFactory {
  return (name, burst, perMs) => new RedisBuckets(redis, `${prefix}${name}:`, burst, perMs);
}
