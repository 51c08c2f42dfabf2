/** Writing answers: JSON bodies, errors in the one `{ error: { code, message } }` shape. */

import type { ServerResponse } from 'node:http';
import { type ErrorCode, FerryError, httpStatusOf } from '../../shared/errors.ts';
import { engineDown, isEngineDown } from '../engine-down.ts';
import type { Logger } from '../log.ts';

/** Where an answered error is reported: the log (for server faults) and the refusal count. */
export interface ErrorReport {
  logger: Logger;
  refused(code: ErrorCode): void;
}

/** Reports an error that is about to be answered; server faults are logged with their cause. */
export function reportError(ferry: FerryError, report: ErrorReport, what: string): void {
  report.refused(ferry.code);
  if (ferry.code === 'INTERNAL' || ferry.code === 'STORAGE_FAILED') {
    // Causes are our own or library errors; they never contain tokens or file contents.
    report.logger.error({ code: ferry.code, err: ferry.cause ?? ferry }, what);
  } else if (ferry.code === 'STORAGE_FULL') {
    // The operator's to fix (or the sweeper's); the cause says which disk error it was.
    report.logger.warn({ code: ferry.code, err: ferry.cause ?? ferry }, what);
  }
}

import { isOutOfSpace, storageFull } from '../storage-full.ts';

/** Headers on every answer: no sniffing, and never a Referer (a link's #key must not leak). */
export const BASE_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...BASE_HEADERS, 'Cache-Control': 'no-store', ...headers });
  res.end();
}

/**
 * Turns anything thrown into a FerryError: a full or read-only disk (or SQLite's
 * "database or disk is full") becomes STORAGE_FULL, other unknown errors INTERNAL; both keep their cause.
 */
export function toFerryError(error: unknown): FerryError {
  if (error instanceof FerryError) return error;
  if (isOutOfSpace(error)) return storageFull(error);
  if (isEngineDown(error)) return engineDown(error);
  return new FerryError('INTERNAL', 'Something went wrong on the server.', { cause: error });
}

/** The one place an error becomes an HTTP answer (tus errors: see uploads/tus-errors.ts). */
export function sendError(res: ServerResponse, error: unknown, report: ErrorReport): void {
  const ferry = toFerryError(error);
  reportError(ferry, report, 'request failed');
  if (res.headersSent) {
    // Mid-stream: the only honest signal left is to cut the connection.
    res.destroy();
    return;
  }
  const headers = ferry instanceof HeaderedError ? ferry.headers : {};
  sendJson(res, httpStatusOf(ferry.code), ferry.toBody(), headers);
}

/** An error whose answer needs protocol headers (Allow on 405, Content-Range on 416). */
export class HeaderedError extends FerryError {
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, message: string, headers: Record<string, string>) {
    super(code, message);
    this.headers = headers;
  }
}

/** 405 that carries the methods the route does allow (RFC 9110 §15.5.6). */
export class AllowError extends HeaderedError {
  constructor(allow: string[]) {
    super('METHOD_NOT_ALLOWED', `Use ${allow.join(' or ')} here.`, { Allow: allow.join(', ') });
  }
}

export function fail(code: ErrorCode, message: string): never {
  throw new FerryError(code, message);
}
