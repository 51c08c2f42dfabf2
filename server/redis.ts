/**
 * Opening the server's Redis (FERRY_REDIS_URL, ioredis), the engine several nodes share
 * for what they must agree on at once (today: tus upload locks, uploads/redis-locker.ts).
 * A first PING fails start-up with a sentence naming the server; after that ioredis
 * reconnects on its own and a lost connection is logged, not fatal.
 */
import { Redis } from 'ioredis';
import { FerryError } from '../shared/errors.ts';
import type { Logger } from './log.ts';
import { redactUrl } from './postgres.ts';

/** How long start-up waits for Redis to answer. */
const CONNECT_TIMEOUT_MS = 10_000;

/** A connection to `url` that answered PING. Throws ENGINE_UNAVAILABLE, naming the server without its password. */
export async function openRedis(url: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 2 });
  // connect() rejects with "Connection is closed."; the socket's own error says why.
  let socketError: Error | undefined;
  const onError = (error: Error) => {
    socketError ??= error;
  };
  redis.on('error', onError);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const reason = (socketError ?? (error instanceof Error ? error : new Error(String(error)))).message;
    throw new FerryError(
      'ENGINE_UNAVAILABLE',
      `Ferry cannot use Redis at ${redactUrl(url)} (FERRY_REDIS_URL): ${reason}`,
      {
        cause: error,
      },
    );
  }
  redis.off('error', onError);
  let lost = false;
  redis.on('error', (error: Error) => {
    if (lost) return;
    lost = true;
    logger.warn({ err: error }, 'Redis: connection lost; reconnecting');
  });
  redis.on('ready', () => {
    lost = false;
  });
  return redis;
}
