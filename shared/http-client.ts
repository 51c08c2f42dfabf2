/**
 * The schema-free part of the API client (api-client.ts): plain requests, error answers as
 * FerryErrors with the server's code, and the ciphertext GET. Kept apart so that a bundle
 * that only downloads (the service worker) carries no zod schemas. `base` is the server's
 * origin, or '' for URLs relative to the page.
 */
import { FerryError, parseErrorBody } from './errors.ts';
import { TICKET_HEADER } from './headers.ts';
import { STORAGE_FULL_SENTENCE, serverError } from './server-errors.ts';

/** Turns a non-2xx answer into a FerryError carrying the server's code. */
export async function errorFromResponse(response: Response): Promise<FerryError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const parsed = parseErrorBody(body);
  if (parsed) return serverError(parsed.code, parsed.message);
  if (response.status === 507) return serverError('STORAGE_FULL', STORAGE_FULL_SENTENCE);
  return new FerryError(
    response.status === 404 ? 'NOT_FOUND' : response.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST',
    `The server answered ${response.status} ${response.statusText}.`,
  );
}

/** fetch() that turns network failures into NETWORK_ERROR and aborts into ABORTED. */
export async function request(input: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch (cause) {
    if (init.signal?.aborted) throw new FerryError('ABORTED', 'Cancelled.', { cause });
    throw new FerryError('NETWORK_ERROR', 'Ferry’s server could not be reached. Check your connection.', { cause });
  }
}

/** Request headers carrying `token` as a bearer token, and `extra`. */
export function bearer(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${token}`, ...extra };
}

export const json = { 'Content-Type': 'application/json' };

/**
 * Ciphertext of one file from byte `start` (to the end, or to `end` exclusive) under a
 * ticket, from the server at `base`. Answers the Response so the caller can stream its body.
 */
export async function fetchCiphertextAt(
  base: string,
  id: string,
  index: number,
  auth: { readerToken: string; ticket: string },
  start = 0,
  end?: number,
  signal?: AbortSignal,
): Promise<Response> {
  const headers = bearer(auth.readerToken, { [TICKET_HEADER]: auth.ticket });
  if (start > 0 || end !== undefined) headers.Range = `bytes=${start}-${end === undefined ? '' : end - 1}`;
  const url = `${base.replace(/\/+$/, '')}/api/shares/${id}/files/${index}`;
  const response = await request(url, { headers, signal: signal ?? null });
  if (!response.ok) throw await errorFromResponse(response);
  if (start > 0 && response.status !== 206) {
    throw new FerryError('INVALID_RANGE', 'The server did not resume the download where it stopped.');
  }
  return response;
}
