/**
 * A server's error answer as the app shows it. Most server messages are written for people
 * and shown as they are; a few codes get the app's own sentence (the server's names bytes
 * and reserves, which are for the operator).
 */
import { type ErrorCode, FerryError } from './errors.ts';

export const STORAGE_FULL_SENTENCE = 'The server is out of space; try again later.';

const SENTENCES: Partial<Record<ErrorCode, string>> = {
  STORAGE_FULL: STORAGE_FULL_SENTENCE,
};

/** The FerryError for a server answer with `code` and `message`. */
export function serverError(code: ErrorCode, message: string, cause?: unknown): FerryError {
  return new FerryError(code, SENTENCES[code] ?? message, cause === undefined ? undefined : { cause });
}
