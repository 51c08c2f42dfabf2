/**
 * Open connections per key (a client network), capped across every node: in this process's
 * memory (one node) or in Redis (any number), picked by coordination.ts; both pass
 * connection-counts.test.ts.
 *
 * In Redis a key is a hash: node id → that node's count. The node's own count stays in its
 * memory (the truth for its field) and is written whole (HSET, not +1/-1), so a write lost
 * while Redis was away is set right by the next one (`flush`, on the signaling keep-alive
 * tick). An open sums only the fields of nodes whose presence key (the signaling bus's,
 * NODE_TTL_MS) still exists and deletes the others: a dead node's connections stop counting
 * once its presence expires. Every write (and every `flush`, which rewrites all of this
 * node's keys) gives the key KEY_TTL_MS to live, so a key that only a dead node's field kept
 * vanishes by itself even if no open of it ever comes again.
 */
import type { Redis } from 'ioredis';
import { RedisScript } from './redis.ts';

export interface ConnectionCounts {
  /** Counts one more connection of `key` unless `max` are open already; whether it was counted. */
  open(key: string, max: number): Promise<boolean>;
  /** Counts one connection of `key` as closed (never fails: a lost write is flushed later). */
  close(key: string): void;
  /**
   * Writes again what could not be written (Redis was away) and renews this node's keys;
   * call it more often than KEY_TTL_MS. Nothing in memory.
   */
  flush(): Promise<void>;
}

/** One process's counts. */
export class MemoryConnectionCounts implements ConnectionCounts {
  readonly #open = new Map<string, number>();

  async open(key: string, max: number): Promise<boolean> {
    return this.add(key, max);
  }

  /** `open`, at once. */
  add(key: string, max = Number.POSITIVE_INFINITY): boolean {
    const count = this.#open.get(key) ?? 0;
    if (count >= max) return false;
    this.#open.set(key, count + 1);
    return true;
  }

  close(key: string): void {
    const left = (this.#open.get(key) ?? 1) - 1;
    if (left > 0) this.#open.set(key, left);
    else this.#open.delete(key);
  }

  async flush(): Promise<void> {}

  /** This node's count of `key`. */
  count(key: string): number {
    return this.#open.get(key) ?? 0;
  }

  /** The keys with open connections. */
  keys(): IterableIterator<string> {
    return this.#open.keys();
  }
}

/** How long a key outlives this node's last write of it (flush renews it). */
export const KEY_TTL_MS = 60_000;

/**
 * ARGV: key, node, presence prefix, max, this node's count, key ttl. Sums the live nodes' fields (this
 * node's from ARGV, the truth), deletes dead nodes' fields; under `max` it stores this node's
 * count + 1 and answers 1, else 0.
 */
const OPEN = new RedisScript(`
local key, node, presence = ARGV[1], ARGV[2], ARGV[3]
local own = tonumber(ARGV[5])
local total = own
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  local other = fields[i]
  if other ~= node then
    if redis.call('EXISTS', presence .. other) == 1 then
      total = total + tonumber(fields[i + 1])
    else
      redis.call('HDEL', key, other)
    end
  end
end
if total >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', key, node, own + 1)
redis.call('PEXPIRE', key, ARGV[6])
return 1
`);

export interface RedisConnectionCountsOptions {
  /** Key prefix, e.g. `ferry:conn:signal:`. */
  prefix: string;
  /** This node's id (its field in every key). */
  node: string;
  /** A node's presence is the key `presence` + node id. */
  presence: string;
  /**
   * What an open does while Redis is away: `refuse` throws ENGINE_UNAVAILABLE (the default);
   * `count-here` applies the cap to this node's own count alone (written when Redis returns),
   * for a cap that must not make the node unreachable (the HTTP one: /ready must answer).
   */
  whenAway?: 'refuse' | 'count-here';
}

/** ARGV: key, node, count, key ttl. Sets (or with 0 deletes) the node's field; renews the key's expiry. */
const STORE = new RedisScript(`
local key = ARGV[1]
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', key, ARGV[2], ARGV[3])
  redis.call('PEXPIRE', key, ARGV[4])
else
  redis.call('HDEL', key, ARGV[2])
end
`);

export class RedisConnectionCounts implements ConnectionCounts {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #node: string;
  readonly #presence: string;
  readonly #countHere: boolean;
  readonly #own = new MemoryConnectionCounts();
  /** Keys whose field could not be written. */
  readonly #unwritten = new Set<string>();

  constructor(redis: Redis, { prefix, node, presence, whenAway = 'refuse' }: RedisConnectionCountsOptions) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#node = node;
    this.#presence = presence;
    this.#countHere = whenAway === 'count-here';
  }

  /** Throws ENGINE_UNAVAILABLE while Redis cannot be reached, unless `whenAway` is `count-here`. */
  async open(key: string, max: number): Promise<boolean> {
    // Reserved in memory first, so opens of this node running at once count each other.
    this.#own.add(key);
    const own = this.#own.count(key) - 1;
    let counted: boolean;
    try {
      counted =
        (await OPEN.run(this.#redis, [this.#prefix + key, this.#node, this.#presence, max, own, KEY_TTL_MS])) === 1;
    } catch (error) {
      if (this.#countHere && own < max) {
        this.#unwritten.add(key);
        return true;
      }
      this.#own.close(key);
      if (this.#countHere) return false;
      throw error;
    }
    if (!counted) this.#own.close(key);
    // Other opens and closes of this key may have run meanwhile and stored another count:
    // memory holds the truth.
    if (!counted || this.#own.count(key) !== own + 1) this.#write(key);
    return counted;
  }

  close(key: string): void {
    this.#own.close(key);
    this.#write(key);
  }

  async flush(): Promise<void> {
    const keys = new Set([...this.#unwritten, ...this.#own.keys()]);
    this.#unwritten.clear();
    await Promise.all([...keys].map((key) => this.#store(key)));
  }

  #write(key: string): void {
    this.#store(key).catch(() => undefined);
  }

  /** Stores this node's count of `key`; remembered for `flush` when Redis is away. */
  async #store(key: string): Promise<void> {
    const count = this.#own.count(key);
    try {
      await STORE.run(this.#redis, [this.#prefix + key, this.#node, count, KEY_TTL_MS]);
    } catch (error) {
      this.#unwritten.add(key);
      throw error;
    }
  }
}
