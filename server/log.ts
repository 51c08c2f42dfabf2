/**
 * The server's logger: pino, one JSON object per line on stdout (what log collectors read),
 * or pino-pretty's readable lines when stdout is a terminal. What may be logged is decided
 * where lines are written (http/request-log.ts): never a token, a ticket, a share secret or
 * a client address unless the operator asks for it (FERRY_LOG_IP=1).
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];

/** FERRY_LOG_LEVEL: one of pino's levels (`info` when unset). */
export function logLevel(text: string | undefined): LogLevel {
  if (text === undefined || text.trim() === '') return 'info';
  const level = LEVELS.find((l) => l === text.trim().toLowerCase());
  if (!level) throw new Error(`FERRY_LOG_LEVEL must be one of ${LEVELS.join(', ')}, got "${text}"`);
  return level;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout by default, pretty-printed when it is a terminal. */
  destination?: DestinationStream;
}

export function createLogger({ level, destination }: LoggerOptions): Logger {
  const options = { level, base: { service: 'ferry', pid: process.pid } };
  if (destination) return pino(options, destination);
  // Silent (tests): no stream on stdout at all.
  if (level === 'silent') return pino(options, { write: () => undefined });
  if (process.stdout.isTTY) return pino(options, pretty({ colorize: true, ignore: 'service,pid' }));
  return pino(options);
}

/**
 * A line the operator must see whatever FERRY_LOG_LEVEL says (the start-up address that
 * scripts wait for, the admin token made at first start): logged at info when that level
 * is shown, else printed plainly on stdout.
 */
export function announce(logger: Logger, message: string, fields: Record<string, unknown> = {}): void {
  if (logger.isLevelEnabled('info')) logger.info(fields, message);
  else process.stdout.write(`${message}\n`);
}
