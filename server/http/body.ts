/** Reading request bodies: JSON with a size cap, validated by a zod schema where it enters. */
import type { IncomingMessage } from 'node:http';
import { FerryError } from '../../shared/errors.ts';
import type { z } from '../../shared/zod.ts';

/** When each request's body must have arrived whole (performance.now() time), if it must. */
const deadlines = new WeakMap<IncomingMessage, number>();

/**
 * Gives `req`'s body `ms` from now to arrive whole; readBody answers REQUEST_TIMEOUT (408)
 * after that. The socket's idle timeout cannot catch a body that trickles (one byte every
 * few seconds keeps a socket busy forever, issue 9), so small bodies get a deadline;
 * large tus PATCH bodies have none and rely on the idle timeout.
 */
export function setBodyDeadline(req: IncomingMessage, ms: number): void {
  deadlines.set(req, performance.now() + ms);
}

/**
 * Reads the whole body, refusing (413) as soon as it passes `maxBytes`, and (408) when its
 * deadline passes first. A refused body is left unread: the error answer closes the connection.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(new FerryError('TOO_LARGE', `The request body is larger than ${maxBytes} bytes.`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const deadline = deadlines.get(req);
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(
            () => settle(new FerryError('REQUEST_TIMEOUT', 'The request body took too long to arrive.')),
            Math.max(0, deadline - performance.now()),
          );
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) settle(new FerryError('TOO_LARGE', `The request body is larger than ${maxBytes} bytes.`));
      else chunks.push(chunk);
    };
    const onEnd = () => settle();
    const onClose = () => settle(new FerryError('BAD_REQUEST', 'The request body was cut off.'));
    function settle(error?: unknown): void {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', settle).off('close', onClose);
      if (error) {
        req.pause();
        reject(error);
      } else resolve(Buffer.concat(chunks));
    }
    req.on('data', onData).on('end', onEnd).on('error', settle).on('close', onClose);
  });
}

/**
 * Parses a JSON body against `schema`; INVALID_BODY names the first failing field. The body
 * must say `Content-Type: application/json` (415 otherwise): a browser sends that only
 * after a CORS preflight, which another site cannot pass (http/same-origin.ts).
 */
export async function readJson<S extends z.ZodType>(
  req: IncomingMessage,
  maxBytes: number,
  schema: S,
): Promise<z.infer<S>> {
  assertJsonType(req);
  const raw = await readBody(req, maxBytes);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (cause) {
    throw new FerryError('INVALID_BODY', 'The request body is not valid JSON.', { cause });
  }
  return parseWith(schema, json, 'INVALID_BODY');
}

/** Throws UNSUPPORTED_MEDIA_TYPE (415) unless the request says its body is JSON. */
export function assertJsonType(req: IncomingMessage): void {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new FerryError('UNSUPPORTED_MEDIA_TYPE', 'The request body must be JSON (Content-Type: application/json).');
  }
}

/** Whether a request carries a body (RFC 9112 §6.3: Content-Length above 0, or Transfer-Encoding). */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** Validates any input (body, path parameter, header) with a schema, or throws `code`. */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  code: 'INVALID_BODY' | 'BAD_REQUEST' | 'INVALID_METADATA' = 'BAD_REQUEST',
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'value';
  throw new FerryError(code, `Invalid ${where}: ${issue?.message ?? 'rejected'}.`);
}
