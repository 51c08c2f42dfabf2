/**
 * Opening Ferry's Redis (FERRY_REDIS_URL, ioredis), the twin of postgres.ts for what nodes
 * must agree on at once (coordination.ts; tus upload locks, uploads/redis-locker.ts): a
 * first connection that fails start-up with a sentence naming the server, then a client
 * that fails fast while the server is away and reconnects by itself.
 *
 * Why these options: with ioredis's defaults a command sent while Redis is down waits in the
 * offline queue (up to 20 reconnections per request), so a request would hang instead of
 * being refused. `enableOfflineQueue: false` rejects at once while there is no connection;
 * `maxRetriesPerRequest: 1` bounds a command caught by a dropped connection; the retry
 * strategy keeps reconnecting forever, at most a second apart, so the node recovers when
 * Redis returns. Every failure reaches callers as ENGINE_UNAVAILABLE (`guard`).
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { FerryError } from '../shared/errors.ts';
import type { Logger } from './log.ts';
import { redactUrl } from './postgres.ts';

/** How long the first connection (and each reconnection) may take. */
const CONNECT_TIMEOUT_MS = 5000;
/** A command that has not been answered in this long fails (a server that hangs). */
const COMMAND_TIMEOUT_MS = 5000;

const OPTIONS: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: CONNECT_TIMEOUT_MS,
  commandTimeout: COMMAND_TIMEOUT_MS,
  retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
};

/** Names the engine in an error (the node refuses work with ENGINE_UNAVAILABLE, 503). */
export function redisDown(error: unknown): FerryError {
  if (error instanceof FerryError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new FerryError('ENGINE_UNAVAILABLE', `Redis cannot be reached right now (${reason}); try again soon.`, {
    cause: error,
  });
}

/**
 * A connected client on `url` (`name` says what it is for, in logs). Throws
 * ENGINE_UNAVAILABLE with a sentence naming the server when it cannot be reached.
 */
export async function openRedis(url: string, logger?: Logger, name = 'signaling and coordination'): Promise<Redis> {
  const redis = new Redis(url, { ...OPTIONS, connectionName: `ferry-${name.replaceAll(' ', '-')}` });
  let lastError: Error | undefined;
  // Until the first connection, failures are start-up's to report.
  let down = true;
  redis.on('error', (error: Error) => {
    lastError = error;
    // Logged once per outage, not once per reconnection attempt.
    if (down) return;
    down = true;
    logger?.warn({ err: error }, `Redis (${name}): connection lost; reconnecting`);
  });
  let connected = false;
  redis.on('ready', () => {
    if (down && connected) logger?.info(`Redis (${name}): connected again`);
    down = false;
    connected = true;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const reason = lastError?.message ?? (error instanceof Error ? error.message : String(error));
    throw new FerryError(
      'ENGINE_UNAVAILABLE',
      `Ferry cannot use Redis at ${redactUrl(url)} (FERRY_REDIS_URL) for its ${name}: ${reason}`,
      { cause: error },
    );
  }
  return redis;
}

/** The server answered with an error (ioredis's ReplyError). */
function isReply(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

/**
 * Runs one Redis call, turning a lost connection into ENGINE_UNAVAILABLE. A ReplyError (the
 * server answered with an error: a bug, not an outage) passes through as it is.
 */
export async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isReply(error) || error instanceof FerryError) throw error;
    throw redisDown(error);
  }
}

/**
 * A Lua script run atomically on the server (EVALSHA, falling back to EVAL when the server
 * does not know it: after a restart its script cache is empty). Keys are built inside the
 * scripts from the prefix they are given, so Ferry needs one Redis server, not a Cluster.
 */
export class RedisScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  run(redis: Redis, args: Array<string | number>): Promise<unknown> {
    return guard(async () => {
      try {
        return await redis.evalsha(this.#sha, 0, ...args);
      } catch (error) {
        if (!isReply(error) || !(error as Error).message.startsWith('NOSCRIPT')) throw error;
        return redis.eval(this.#source, 0, ...args);
      }
    });
  }
}
