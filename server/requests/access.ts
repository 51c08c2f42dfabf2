/** Loading a request: the one place that decides 404 and 410 for request links. */
import { FerryError } from '../../shared/errors.ts';
import { requestIdSchema } from '../../shared/request-api.ts';
import type { ShareRecord, ShareStore } from '../shares/store.ts';
import type { RequestRecord, RequestStore, UploadRecord } from './store.ts';

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

/**
 * The share made for this upload, or undefined once it is gone. Both were stamped with the
 * same creation time; a share at that id with another time is not the upload's (its sender
 * may shorten its life, and once the tombstone is dropped anyone may propose the id again).
 */
export async function uploadShare(shares: ShareStore, upload: UploadRecord): Promise<ShareRecord | undefined> {
  const share = await shares.getShare(upload.shareId);
  return share?.createdAt === upload.createdAt ? share : undefined;
}
