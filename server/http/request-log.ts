/**
 * One log line per HTTP request, and the request metrics (bytes up and down, transfers in
 * flight). Each request gets a generated id, answered as X-Request-Id and logged with it.
 *
 * What a line holds is chosen here, field by field: the route *pattern* (`/api/shares/:id`,
 * never the path: paths carry share ids, and app routes carry them too), the method,
 * status, body bytes in and out and the duration. Never a header (tokens, tickets), a query
 * or the client address unless the operator enabled FERRY_LOG_IP.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { FerryMetrics } from '../metrics.ts';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** What the request is, as the metrics count it. */
export type RequestKind = 'upload' | 'download' | 'other';

export interface RequestTrace {
  readonly id: string;
  /**
   * Set by the dispatcher once it knows which route answers (unset: none matched). The
   * first upload or download kind given counts the request in flight until it closes.
   */
  route(pattern: string, kind?: RequestKind): void;
}

export interface RequestLogDeps {
  logger: Logger;
  metrics: FerryMetrics;
  logIp: boolean;
}

/** Starts tracing `req`: the line is written (and the metrics moved) when the response closes. */
export function traceRequest(req: IncomingMessage, res: ServerResponse, deps: RequestLogDeps): RequestTrace {
  const started = performance.now();
  const id = randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  const bytes = countBodyBytes(req, res);
  let route: string | null = null;
  let kind: RequestKind = 'other';
  const inFlight = () => (kind === 'upload' ? deps.metrics.uploadsInFlight : deps.metrics.downloadsInFlight);

  res.once('close', () => {
    if (kind === 'upload') deps.metrics.uploadedBytes.inc(bytes.in);
    if (kind === 'download') deps.metrics.downloadedBytes.inc(bytes.out);
    if (kind !== 'other') inFlight().dec();
    logRequest(deps, req, {
      id,
      route,
      status: res.statusCode,
      // A response cut before its end (a stopped download, a destroyed socket).
      aborted: !res.writableFinished,
      bytesIn: bytes.in,
      bytesOut: bytes.out,
      started,
    });
  });

  return {
    id,
    route(pattern, as = 'other') {
      route = pattern;
      if (kind !== 'other' || as === 'other') return;
      kind = as;
      inFlight().inc();
    },
  };
}

/** What one request's line says (see the header for what it never says). */
export interface RequestLine {
  id: string;
  route: string | null;
  status: number;
  aborted: boolean;
  bytesIn: number;
  bytesOut: number;
  /** performance.now() when the request arrived. */
  started: number;
}

/** Writes the one line of a request (also used for signaling's WebSocket upgrades). */
export function logRequest(deps: Pick<RequestLogDeps, 'logger' | 'logIp'>, req: IncomingMessage, line: RequestLine) {
  deps.logger.info(
    {
      reqId: line.id,
      method: req.method,
      route: line.route,
      status: line.status,
      ...(line.aborted && { aborted: true }),
      bytesIn: line.bytesIn,
      bytesOut: line.bytesOut,
      ms: Math.round(performance.now() - line.started),
      ...(deps.logIp && { ip: req.socket.remoteAddress }),
    },
    'request',
  );
}

/**
 * Body bytes in each direction: what the parser pushed into the request stream and what
 * was handed to the response (headers excluded). The request is counted by wrapping its
 * `push` rather than listening for 'data', which would switch it to flowing mode before
 * the handler reads it.
 */
function countBodyBytes(req: IncomingMessage, res: ServerResponse): { in: number; out: number } {
  const bytes = { in: 0, out: 0 };
  const push = req.push;
  req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    bytes.in += sizeOf(chunk, encoding);
    return push.call(req, chunk, encoding);
  };
  const write = res.write;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
    bytes.out += sizeOf(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  const end = res.end;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]): ServerResponse {
    if (typeof chunk !== 'function') {
      bytes.out += sizeOf(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined);
    }
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as ServerResponse['end'];
  return bytes;
}

function sizeOf(chunk: unknown, encoding: BufferEncoding | undefined): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, encoding);
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
