/**
 * One sweeper at a time across nodes: a lease in Redis (SET NX PX, renewed while held, given
 * up on close). A node sweeps only while it holds the lease; when a renewal finds it gone
 * (expired while the node stalled, or taken), the pass in progress stops before its next
 * step. A node that dies holding it loses it LEASE_TTL_MS later; another takes it on its
 * next tick. Without Redis the one process always holds it.
 */
import type { Redis } from 'ioredis';
import { RedisScript } from './redis.ts';

/** A lease outlives its holder's last renewal by this long. */
export const LEASE_TTL_MS = 30_000;

export interface SweepLease {
  /** Takes or renews the lease; whether this node holds it now. */
  hold(): Promise<boolean>;
  /** Gives it up, if held. */
  release(): Promise<void>;
  /** How often a holder renews it. */
  readonly renewEveryMs: number;
}

/** The lease of a single process: always held. */
export const SOLE_LEASE: SweepLease = {
  hold: async () => true,
  release: async () => undefined,
  renewEveryMs: LEASE_TTL_MS / 3,
};

/** ARGV: key, holder, ttl. Renews our own lease or takes a free one. */
const HOLD = new RedisScript(`
if redis.call('GET', ARGV[1]) == ARGV[2] then return redis.call('PEXPIRE', ARGV[1], ARGV[3]) end
if redis.call('SET', ARGV[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
return 0
`);
/** ARGV: key, holder. */
const RELEASE = new RedisScript(`
if redis.call('GET', ARGV[1]) == ARGV[2] then return redis.call('DEL', ARGV[1]) end
return 0
`);

export class RedisSweepLease implements SweepLease {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #holder: string;
  readonly #ttlMs: number;
  readonly renewEveryMs: number;

  constructor(redis: Redis, holder: string, options: { key?: string; ttlMs?: number } = {}) {
    this.#redis = redis;
    this.#holder = holder;
    this.#key = options.key ?? 'ferry:sweeper-lease';
    this.#ttlMs = options.ttlMs ?? LEASE_TTL_MS;
    this.renewEveryMs = this.#ttlMs / 3;
  }

  async hold(): Promise<boolean> {
    return (await HOLD.run(this.#redis, [this.#key, this.#holder, this.#ttlMs])) === 1;
  }

  async release(): Promise<void> {
    await RELEASE.run(this.#redis, [this.#key, this.#holder]);
  }
}
