/** Loading a request: the one place that decides 404 and 410 for request links. */
import { FerryError } from '../../shared/errors.ts';
import { requestIdSchema } from '../../shared/request-api.ts';
import type { RequestRecord, RequestStore } from './store.ts';

/** The request with this id, open or not; REQUEST_NOT_FOUND for a malformed or unknown id. */
export async function loadRequest(store: RequestStore, rawId: string | undefined): Promise<RequestRecord> {
  const id = requestIdSchema.safeParse(rawId);
  const request = id.success ? await store.getRequest(id.data) : undefined;
  if (!request) throw new FerryError('REQUEST_NOT_FOUND', 'There is no file request with this id.');
  return request;
}

export type RequestState = 'open' | 'expired' | 'closed';

/** Closed wins over expired, as revoked does for shares. */
export function requestState(request: RequestRecord, now: number): RequestState {
  if (request.closedAt !== null) return 'closed';
  return request.expiresAt <= now ? 'expired' : 'open';
}

/** The 410 a sender gets once the request no longer takes files. */
export function goneError(state: Exclude<RequestState, 'open'>): FerryError {
  return state === 'closed'
    ? new FerryError('REQUEST_CLOSED', 'The person who asked for these files has closed the request.')
    : new FerryError('REQUEST_EXPIRED', 'This file request has expired.');
}

/** Throws goneError unless the request is open at `now`. */
export function assertOpen(request: RequestRecord, now: number): void {
  const state = requestState(request, now);
  if (state !== 'open') throw goneError(state);
}
