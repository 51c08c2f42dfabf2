/**
 * The browser's side of the share API. Every answer is parsed with the schema from
 * shared/api.ts; every failure becomes a FerryError with the server's stable code.
 */

import {
  type CreatedShare,
  type CreateShareRequest,
  type CreateShareResponse,
  createdShareSchema,
  createShareResponseSchema,
  type DownloadTicket,
  downloadTicketSchema,
  type PeerCoverageRequest,
  type PeerCoverageResponse,
  peerCoverageResponseSchema,
  type ShareInfo,
  type ShareManifestResponse,
  type ShareOwnerView,
  shareInfoSchema,
  shareManifestResponseSchema,
  shareOwnerViewSchema,
  TICKET_HEADER,
  type UpdateShareRequest,
} from '../../../shared/api.ts';
import { FerryError, parseErrorBody } from '../../../shared/errors.ts';
import type { z } from '../../../shared/zod.ts';
import { uploadKeyHeaders } from '../access/upload-key-db.ts';
import { STORAGE_FULL_SENTENCE, serverError } from './server-errors.ts';

const base = '/api/shares';

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

/** A fetch whose answer is parsed with `schema`; any failure is a FerryError. */
export async function call<S extends z.ZodType>(schema: S, path: string, init: RequestInit = {}): Promise<z.output<S>> {
  const response = await request(path, init);
  if (!response.ok) throw await errorFromResponse(response);
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new FerryError('INTERNAL', 'The server sent an answer Ferry does not understand.');
  return parsed.data;
}

export function bearer(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${token}`, ...extra };
}

export const json = { 'Content-Type': 'application/json' };

/** Creates a share, with this browser's upload key when it has one (a key-only server needs it). */
export async function createShare(body: CreateShareRequest): Promise<CreateShareResponse> {
  const headers = { ...json, ...(await uploadKeyHeaders()) };
  return call(createShareResponseSchema, base, { method: 'POST', headers, body: JSON.stringify(body) });
}

/**
 * A share at a proposed id whose owner and upload tokens the client made (it sends their
 * hashes): the answer carries no tokens, and asking again with the same body after a lost
 * answer gets the same share.
 */
export async function createShareWithOwnTokens(
  body: CreateShareRequest & Required<Pick<CreateShareRequest, 'id' | 'ownerHash' | 'uploadHash'>>,
): Promise<CreatedShare> {
  const headers = { ...json, ...(await uploadKeyHeaders()) };
  return call(createdShareSchema, base, { method: 'POST', headers, body: JSON.stringify(body) });
}

export function getShareInfo(id: string): Promise<ShareInfo> {
  return call(shareInfoSchema, `${base}/${id}`);
}

export function getManifest(id: string, readerToken: string): Promise<ShareManifestResponse> {
  return call(shareManifestResponseSchema, `${base}/${id}/manifest`, { headers: bearer(readerToken) });
}

export function getOwnerView(id: string, ownerToken: string): Promise<ShareOwnerView> {
  return call(shareOwnerViewSchema, `${base}/${id}/owner`, { headers: bearer(ownerToken) });
}

export function updateShare(id: string, ownerToken: string, body: UpdateShareRequest): Promise<ShareOwnerView> {
  return call(shareOwnerViewSchema, `${base}/${id}`, {
    method: 'PATCH',
    headers: bearer(ownerToken, json),
    body: JSON.stringify(body),
  });
}

export async function revokeShare(id: string, ownerToken: string): Promise<void> {
  const response = await request(`${base}/${id}`, { method: 'DELETE', headers: bearer(ownerToken) });
  if (!response.ok) throw await errorFromResponse(response);
}

export function requestTicket(id: string, readerToken: string, files: number[]): Promise<DownloadTicket> {
  return call(downloadTicketSchema, `${base}/${id}/downloads`, {
    method: 'POST',
    headers: bearer(readerToken, json),
    body: JSON.stringify({ files }),
  });
}

/** The owner reports ciphertext its tab sent straight to the holder of a ticket (server/shares/peer-coverage.ts). */
export function reportPeerCoverage(
  id: string,
  ownerToken: string,
  body: PeerCoverageRequest,
): Promise<PeerCoverageResponse> {
  return call(peerCoverageResponseSchema, `${base}/${id}/peer-coverage`, {
    method: 'POST',
    headers: bearer(ownerToken, json),
    body: JSON.stringify(body),
  });
}

/**
 * Ciphertext of one file from byte `start` (to the end, or to `end` exclusive) under a
 * ticket. Answers the Response so the caller can stream its body.
 */
export async function fetchCiphertext(
  id: string,
  index: number,
  auth: { readerToken: string; ticket: string },
  start = 0,
  end?: number,
  signal?: AbortSignal,
): Promise<Response> {
  const headers = bearer(auth.readerToken, { [TICKET_HEADER]: auth.ticket });
  if (start > 0 || end !== undefined) headers.Range = `bytes=${start}-${end === undefined ? '' : end - 1}`;
  const response = await request(`${base}/${id}/files/${index}`, { headers, signal: signal ?? null });
  if (!response.ok) throw await errorFromResponse(response);
  if (start > 0 && response.status !== 206) {
    throw new FerryError('INVALID_RANGE', 'The server did not resume the download where it stopped.');
  }
  return response;
}
