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
  type UpdateShareRequest,
} from '../../../shared/api.ts';
import { FerryError } from '../../../shared/errors.ts';
import type { z } from '../../../shared/zod.ts';
import { uploadKeyHeaders } from '../access/upload-key-db.ts';
import { bearer, errorFromResponse, request } from './ciphertext.ts';

// The zod-free part of this client lives in ciphertext.ts (the service worker bundles it).
export { bearer, errorFromResponse, fetchCiphertext, request } from './ciphertext.ts';

const base = '/api/shares';

/** A fetch whose answer is parsed with `schema`; any failure is a FerryError. */
export async function call<S extends z.ZodType>(schema: S, path: string, init: RequestInit = {}): Promise<z.output<S>> {
  const response = await request(path, init);
  if (!response.ok) throw await errorFromResponse(response);
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new FerryError('INTERNAL', 'The server sent an answer Ferry does not understand.');
  return parsed.data;
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
