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
 * once its presence expires, and leave no count behind.
 */
import type { Redis } from 'ioredis';
import { guard, RedisScript } from './redis.ts';

export interface ConnectionCounts {
  /** Counts one more connection of `key` unless `max` are open already; whether it was counted. */
  open(key: string, max: number): Promise<boolean>;
  /** Counts one connection of `key` as closed (never fails: a lost write is flushed later). */
  close(key: string): void;
  /** Writes again what could not be written (Redis was away); nothing in memory. */
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
}

/**
 * ARGV: key, node, presence prefix, max, this node's count. Sums the live nodes' fields (this
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
return 1
`);

export class RedisConnectionCounts implements ConnectionCounts {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #node: string;
  readonly #presence: string;
  readonly #own = new MemoryConnectionCounts();
  /** Keys whose field could not be written. */
  readonly #unwritten = new Set<string>();

  /** Counts under `prefix`; `node`'s presence is the key `presence` + node. */
  constructor(redis: Redis, { prefix, node, presence }: { prefix: string; node: string; presence: string }) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#node = node;
    this.#presence = presence;
  }

  /** Throws ENGINE_UNAVAILABLE while Redis cannot be reached (the connection is refused). */
  async open(key: string, max: number): Promise<boolean> {
    // Reserved in memory first, so opens of this node running at once count each other.
    this.#own.add(key);
    const own = this.#own.count(key) - 1;
    let counted: boolean;
    try {
      counted = (await OPEN.run(this.#redis, [this.#prefix + key, this.#node, this.#presence, max, own])) === 1;
    } catch (error) {
      this.#own.close(key);
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
    const keys = [...this.#unwritten];
    this.#unwritten.clear();
    await Promise.all(keys.map((key) => this.#store(key)));
  }

  #write(key: string): void {
    this.#store(key).catch(() => undefined);
  }

  /** Stores this node's count of `key`; remembered for `flush` when Redis is away. */
  async #store(key: string): Promise<void> {
    const count = this.#own.count(key);
    try {
      await guard(() =>
        count > 0
          ? this.#redis.hset(this.#prefix + key, this.#node, count)
          : this.#redis.hdel(this.#prefix + key, this.#node),
      );
    } catch (error) {
      this.#unwritten.add(key);
      throw error;
    }
  }
}
