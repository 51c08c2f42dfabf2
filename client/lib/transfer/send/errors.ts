/** One clear sentence for any failure of a send, whatever layer it came from. */
import { type ErrorCode, FerryError, parseErrorBody } from '../../../../shared/errors.ts';
import { STORAGE_FULL_SENTENCE, serverError } from '../../../../shared/server-errors.ts';

interface TusLikeError {
  originalResponse?: { getStatus(): number; getBody(): string } | null;
  originalRequest?: unknown;
}

const STATUS_TEXT: Record<number, string> = {
  401: 'The server did not accept this upload’s token.',
  403: 'The server refused this upload.',
  404: 'The share no longer exists on the server.',
  410: 'The share has expired or was revoked.',
  413: 'That file is larger than the server accepts.',
  429: 'The server is busy. Try again in a minute.',
  507: STORAGE_FULL_SENTENCE,
};

const STATUS_CODE: Partial<Record<number, ErrorCode>> = { 413: 'TOO_LARGE', 507: 'STORAGE_FULL' };

/** A FerryError for anything thrown while sending (tus errors carry the server's JSON body). */
export function toFerryError(error: unknown): FerryError {
  if (error instanceof FerryError) return error;
  const tus = error as TusLikeError | null;
  const response = tus?.originalResponse;
  if (response) {
    let body: unknown;
    try {
      body = JSON.parse(response.getBody());
    } catch {
      body = undefined;
    }
    const parsed = parseErrorBody(body);
    if (parsed) return serverError(parsed.code, parsed.message, error);
    const status = response.getStatus();
    const text = STATUS_TEXT[status];
    if (text) return new FerryError(STATUS_CODE[status] ?? 'BAD_REQUEST', text, { cause: error });
    return new FerryError('INTERNAL', `The server answered ${status}. Your upload is kept: resume it later.`, {
      cause: error,
    });
  }
  if (tus && 'originalRequest' in tus) {
    return new FerryError(
      'NETWORK_ERROR',
      'The connection to Ferry’s server was lost. Your upload is kept: resume it.',
      {
        cause: error,
      },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new FerryError('INTERNAL', `Something went wrong: ${message}`, { cause: error });
}
