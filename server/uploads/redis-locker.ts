/**
 * A tus `Locker` shared by every node through Redis (FERRY_REDIS_URL), so one upload is
 * written by one request at a time whichever node it reaches. @tus/server ships only
 * MemoryLocker (one process); this keeps its behaviour across processes:
 *
 * - A lock is the key `ferry:tus-lock:<upload id>` holding its owner's token (host/pid/random),
 *   taken with SET NX PX (an expiry, so a node that dies frees its uploads after `ttlMs`)
 *   and renewed every ttl/3 while held. Renewal and release run as scripts that act only
 *   when the key still holds the owner's token: no node removes or extends another's lock.
 * - "Release on request" (tus: a new PATCH for an upload asks the request holding it to
 *   stop, tus 1.0 leaves a half-open connection's lock to the server): a waiter publishes
 *   the upload id on `ferry:tus-lock:release`; the node holding that lock calls its
 *   `requestRelease` (which cancels that request; tus then unlocks). A release publishes
 *   the id on `ferry:tus-lock:released`, which wakes waiters at once; they also poll, so a
 *   lock that expired (its holder died) is taken within one poll of its expiry.
 * - A holder whose renewal finds the key gone or someone else's (Redis lost it, or the
 *   node stalled past the ttl) is asked to release at once: it no longer owns the upload.
 *   So is one that has not renewed for a whole ttl (Redis cannot be reached from this
 *   node, or answers too late): the key may have expired and another node may hold the
 *   upload, so this request must stop writing. A request that keeps renewing holds its lock
 *   however long it runs; `ttlMs` only bounds how long a dead node's uploads stay locked
 *   (FERRY_UPLOAD_LOCK_TTL_MS).
 *
 * Waiting ends with tus's ERR_LOCK_TIMEOUT when `acquireTimeoutMs` passes or the request's
 * signal aborts, as MemoryLocker does.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/server';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.ts';

const KEY_PREFIX = 'ferry:tus-lock:';
const RELEASE_CHANNEL = 'ferry:tus-lock:release';
const RELEASED_CHANNEL = 'ferry:tus-lock:released';

/** Extends the key's expiry only while it holds our token (1), else 0. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
/** Deletes the key only while it holds our token, and tells waiters (1), else 0. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) redis.call('PUBLISH', ARGV[2], ARGV[3]) return 1 end return 0`;

export interface RedisLockerOptions {
  /** Commands (SET, scripts, PUBLISH). */
  redis: Redis;
  /** A connection of its own for SUBSCRIBE (a subscribed connection runs no other commands); the locker closes it. */
  subscriber: Redis;
  /** A lock's expiry without renewal: how long a dead node's uploads stay locked. */
  ttlMs?: number;
  /** How long a request waits for a lock before ERR_LOCK_TIMEOUT (MemoryLocker: 30 s). */
  acquireTimeoutMs?: number;
  /** Longest wait between attempts when no release notice arrives. */
  pollMs?: number;
  logger?: Logger;
}

interface Held {
  token: string;
  requestRelease: RequestRelease;
  /** Stops renewing and forgets the lock here (Redis keeps it until its expiry or a release). */
  stop(): void;
}

/** The upload ids this process holds and the waiters for each id's release. */
export class RedisLocker implements Locker {
  readonly ttlMs: number;
  readonly acquireTimeoutMs: number;
  readonly pollMs: number;
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #logger: Logger | undefined;
  /** Held here, by upload id (tus holds at most one lock per id per process). */
  readonly #held = new Map<string, Held>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #subscribed: Promise<unknown>;

  constructor(options: RedisLockerOptions) {
    this.#redis = options.redis;
    this.#subscriber = options.subscriber;
    this.#logger = options.logger;
    this.ttlMs = options.ttlMs ?? 10_000;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 30_000;
    this.pollMs = options.pollMs ?? 100;
    this.#subscriber.on('message', (channel: string, id: string) => this.#onMessage(channel, id));
    this.#subscribed = this.#subscriber.subscribe(RELEASE_CHANNEL, RELEASED_CHANNEL);
  }

  /** Resolves once this locker hears release requests (before that, a holder here could miss one). */
  ready(): Promise<void> {
    return this.#subscribed.then(() => undefined);
  }

  newLock(id: string): Lock {
    return new RedisLock(this, id);
  }

  /** Stops listening and renewing; locks still held expire on their own. */
  async close(): Promise<void> {
    for (const held of [...this.#held.values()]) held.stop();
    this.#subscriber.disconnect();
  }

  #onMessage(channel: string, id: string): void {
    if (channel === RELEASE_CHANNEL) {
      const held = this.#held.get(id);
      if (held) void this.#ask(held);
    } else if (channel === RELEASED_CHANNEL) {
      for (const wake of this.#waiters.get(id) ?? []) wake();
    }
  }

  async #ask(held: Held): Promise<void> {
    try {
      await held.requestRelease();
    } catch (error) {
      this.#logger?.warn({ err: error }, 'tus lock: asking the holder to release failed');
    }
  }

  /** SET NX PX: true when `token` now owns the lock. */
  async tryTake(id: string, token: string): Promise<boolean> {
    return (await this.#redis.set(KEY_PREFIX + id, token, 'PX', this.ttlMs, 'NX')) === 'OK';
  }

  /** Asks whichever node holds `id` to release it. */
  async requestRelease(id: string): Promise<void> {
    await this.#redis.publish(RELEASE_CHANNEL, id);
  }

  /**
   * Records a lock taken by a SET sent at `takenAt` and keeps it alive until it is released
   * or lost. Invariant: the request is asked to stop before `ttlMs` has passed since the
   * last renewal Redis confirmed, counted from when that command was sent (Redis starts the
   * expiry later), so it never writes on after its key could have expired.
   */
  hold(id: string, token: string, requestRelease: RequestRelease, takenAt: number): () => void {
    let renewedAt = takenAt;
    let lost = false;
    const held: Held = {
      token,
      requestRelease,
      stop: () => {
        clearInterval(timer);
        held.token = '';
        if (this.#held.get(id) === held) this.#held.delete(id);
      },
    };
    /** Asks the request to stop, once until a renewal succeeds again. */
    const lose = (why: string) => {
      if (lost || held.token !== token) return;
      lost = true;
      this.#logger?.warn({ upload: id }, `tus lock: ${why}; cancelling its request`);
      void this.#ask(held);
    };
    this.#held.set(id, held);
    const every = Math.max(50, Math.floor(this.ttlMs / 3));
    const timer = setInterval(() => {
      // By the next tick the key could have expired: stop writing before another node may
      // take the upload (one renewal missed is tolerated, two are not).
      // Renewal goes on: a request that does not stop when asked keeps its key while it can.
      if (Date.now() + every - renewedAt >= this.ttlMs) lose('not renewed in time (Redis unreachable or slow)');
      const sent = Date.now();
      this.#redis.eval(RENEW, 1, KEY_PREFIX + id, token, this.ttlMs).then(
        (renewed) => {
          if (renewed === 1) {
            renewedAt = Math.max(renewedAt, sent);
            lost = false;
          }
          // Expired during a stall, or Redis forgot it: the request must stop writing.
          else lose('lost while held');
        },
        (error: unknown) => this.#logger?.warn({ err: error, upload: id }, 'tus lock: renewal failed'),
      );
    }, every);
    timer.unref();
    return held.stop;
  }

  /** Deletes the key if `token` still owns it, telling waiters. */
  async release(id: string, token: string): Promise<boolean> {
    return (await this.#redis.eval(RELEASE, 1, KEY_PREFIX + id, token, RELEASED_CHANNEL, id)) === 1;
  }

  /** Resolves after a release notice for `id`, `ms`, or an abort, whichever comes first. */
  async waitForRelease(id: string, ms: number, signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      const set = this.#waiters.get(id) ?? new Set();
      this.#waiters.set(id, set);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.#waiters.get(id) === set) this.#waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
      set.add(done);
    });
  }
}

const HOLDER = `${hostname()}/${process.pid}`;

/** How often a waiter repeats its release request: the holder may have changed meanwhile. */
const REASK_MS = 1000;

class RedisLock implements Lock {
  readonly #locker: RedisLocker;
  readonly #id: string;
  #token = '';
  #stopHolding: (() => void) | undefined;

  constructor(locker: RedisLocker, id: string) {
    this.#locker = locker;
    this.#id = id;
  }

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const locker = this.#locker;
    // Names the holder (host/pid) so an operator (and the multi-node test) can tell which
    // node has an upload; the random part makes it unguessable and unique per request.
    const token = `${HOLDER}/${randomBytes(16).toString('hex')}`;
    const deadline = Date.now() + locker.acquireTimeoutMs;
    let askedAt = 0;
    while (!signal.aborted && Date.now() < deadline) {
      const sent = Date.now();
      if (await locker.tryTake(this.#id, token)) {
        if (signal.aborted) {
          // Taken just as the request went away: give it straight back.
          await locker.release(this.#id, token);
          break;
        }
        this.#token = token;
        this.#stopHolding = locker.hold(this.#id, token, requestRelease, sent);
        return;
      }
      if (Date.now() - askedAt >= REASK_MS) {
        askedAt = Date.now();
        await locker.requestRelease(this.#id);
      }
      await locker.waitForRelease(this.#id, Math.min(locker.pollMs, deadline - Date.now()), signal);
    }
    throw ERRORS.ERR_LOCK_TIMEOUT;
  }

  async unlock(): Promise<void> {
    if (!this.#token) throw new Error('Releasing an unlocked lock!');
    const token = this.#token;
    this.#token = '';
    this.#stopHolding?.();
    this.#stopHolding = undefined;
    // False when the lock had expired (and maybe been taken): nothing of ours to remove.
    await this.#locker.release(this.#id, token);
  }
}
