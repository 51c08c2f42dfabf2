/**
 * The schema-free part of the app's API client (shared/http-client.ts) against the page's
 * own server: the service worker fetches downloads with it (receive/sw-fetch.ts) without
 * bundling the API's schemas; share-client.ts re-exports it for everything else.
 */
import { fetchCiphertextAt } from '../../../shared/http-client.ts';

export { bearer, errorFromResponse, request } from '../../../shared/http-client.ts';

/** Ciphertext of one file from byte `start` under a ticket (shared/http-client.ts `fetchCiphertextAt`). */
export function fetchCiphertext(
  id: string,
  index: number,
  auth: { readerToken: string; ticket: string },
  start = 0,
  end?: number,
  signal?: AbortSignal,
): Promise<Response> {
  return fetchCiphertextAt('', id, index, auth, start, end, signal);
}
