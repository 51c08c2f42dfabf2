import { FerryError } from '../../../shared/errors.ts';

/** `error` as a FerryError: anything else becomes INTERNAL with a sentence about the connection. */
export function asFerryError(error: unknown): FerryError {
  return error instanceof FerryError ? error : new FerryError('INTERNAL', 'Something went wrong with the connection.');
}
