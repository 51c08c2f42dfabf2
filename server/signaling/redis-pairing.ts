/**
 * Pairing codes in Redis, so a code made on one node is entered on another. Same rules as
 * PairingCodes (pairing.ts), each operation one Lua script: `code:<code>` holds the creator
 * and the expiry (time is the caller's clock, as in memory; the key also expires in Redis),
 * `creator:<peer>` the creator's code, `codes` a sorted set of live codes by expiry (the cap).
 */
import type { Redis } from 'ioredis';
import { PAIR_CODE_TTL_MS } from '../../shared/signaling.ts';
import { RedisScript } from '../redis.ts';
import { MAX_LIVE_CODES, type PairingCodeStore, type RedeemResult, randomCode } from './pairing.ts';

/** Takes `creator`'s code away, only if that code is still its own. */
const DROP_FN = `
local function drop(P, creator)
  local code = redis.call('GET', P .. 'creator:' .. creator)
  if not code then return end
  redis.call('DEL', P .. 'creator:' .. creator)
  local entry = redis.call('GET', P .. 'code:' .. code)
  if entry and cjson.decode(entry).c == creator then
    redis.call('DEL', P .. 'code:' .. code)
    redis.call('ZREM', P .. 'codes', code)
  end
end
`;

/** ARGV: prefix, creator, code, now, ttl, max. Answers 'ok', 'taken' (try another code) or 'full'. */
const CREATE = new RedisScript(`${DROP_FN}
local P, creator, code, now, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
drop(P, creator)
redis.call('ZREMRANGEBYSCORE', P .. 'codes', '-inf', now)
if redis.call('ZCARD', P .. 'codes') >= tonumber(ARGV[6]) then return 'full' end
local entry = redis.call('GET', P .. 'code:' .. code)
if entry and tonumber(cjson.decode(entry).e) > now then return 'taken' end
redis.call('SET', P .. 'code:' .. code, cjson.encode({ c = creator, e = now + ttl }), 'PX', ttl)
redis.call('SET', P .. 'creator:' .. creator, code, 'PX', ttl)
redis.call('ZADD', P .. 'codes', now + ttl, code)
return 'ok'
`);

/** ARGV: prefix, code, joiner, now. Answers { 'ok', creator } or { reason }. */
const REDEEM = new RedisScript(`
local P, code, joiner, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local entry = redis.call('GET', P .. 'code:' .. code)
if not entry then return { 'unknown' } end
entry = cjson.decode(entry)
if tonumber(entry.e) <= now then return { 'unknown' } end
if entry.c == joiner then return { 'own-code' } end
redis.call('DEL', P .. 'code:' .. code)
redis.call('ZREM', P .. 'codes', code)
if redis.call('GET', P .. 'creator:' .. entry.c) == code then redis.call('DEL', P .. 'creator:' .. entry.c) end
return { 'ok', entry.c }
`);

/** ARGV: prefix, creator. */
const DROP = new RedisScript(`${DROP_FN}
drop(ARGV[1], ARGV[2])
return 1
`);

/** ARGV: prefix, now. */
const COUNT = new RedisScript(`
redis.call('ZREMRANGEBYSCORE', ARGV[1] .. 'codes', '-inf', tonumber(ARGV[2]))
return redis.call('ZCARD', ARGV[1] .. 'codes')
`);

export class RedisPairingCodes implements PairingCodeStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #random: (() => number) | undefined;

  /** `prefix`: tests give each store its own; `random`: the source of codes (tests). */
  constructor(redis: Redis, options: { prefix?: string; random?: () => number } = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'ferry:pair:';
    this.#random = options.random;
  }

  async create(creator: string, now: number): Promise<{ code: string; expiresAt: number } | undefined> {
    for (;;) {
      const code = randomCode(this.#random);
      const answer = await CREATE.run(this.#redis, [
        this.#prefix,
        creator,
        code,
        now,
        PAIR_CODE_TTL_MS,
        MAX_LIVE_CODES,
      ]);
      if (answer === 'full') return undefined;
      if (answer === 'ok') return { code, expiresAt: now + PAIR_CODE_TTL_MS };
    }
  }

  async redeem(code: string, joiner: string, now: number): Promise<RedeemResult> {
    const [answer, creator] = (await REDEEM.run(this.#redis, [this.#prefix, code, joiner, now])) as [string, string?];
    if (answer === 'ok') return { ok: true, creator: creator! };
    return { ok: false, reason: answer === 'own-code' ? 'own-code' : 'unknown' };
  }

  async drop(creator: string): Promise<void> {
    await DROP.run(this.#redis, [this.#prefix, creator]);
  }

  async count(now: number): Promise<number> {
    return (await COUNT.run(this.#redis, [this.#prefix, now])) as number;
  }
}
