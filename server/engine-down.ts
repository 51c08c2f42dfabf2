/**
 * Whether an error means an engine (Postgres, Redis) cannot be reached right now, as opposed
 * to a bug or bad input: such a request is answered 503 ENGINE_UNAVAILABLE (retry later),
 * not 500, and the node recovers by itself once the engine is back (pg's pool and ioredis
 * both connect again).
 */
import { FerryError } from '../shared/errors.ts';

/** Socket errors of a connection attempt or a connection that broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
/**
 * Postgres SQLSTATEs of a server going away: class 08 (connection exception), 57P01
 * admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up).
 */
const POSTGRES_DOWN = /^(08...|57P0[123])$/;
/**
 * What node-postgres says when the server closed the connection or none came in time, and
 * ioredis when there is no connection (its offline queue is off: redis.ts).
 */
const DOWN_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Stream isn't writeable|Connection is closed|Reached the max retries per request limit|Command timed out)/;

export function isEngineDown(error: unknown): boolean {
  if (error instanceof FerryError) return error.code === 'ENGINE_UNAVAILABLE';
  if (error instanceof AggregateError) return error.errors.some(isEngineDown);
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || POSTGRES_DOWN.test(code))) return true;
  return DOWN_MESSAGES.test(error.message);
}

/** The answer for a request whose engine is away. */
export function engineDown(error: unknown): FerryError {
  if (error instanceof FerryError) return error;
  return new FerryError(
    'ENGINE_UNAVAILABLE',
    'A database this server needs cannot be reached right now; try again soon.',
    {
      cause: error,
    },
  );
}
