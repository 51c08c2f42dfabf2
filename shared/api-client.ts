/**
 * The share API over HTTP, for the app and for `ferry`: every answer is parsed with the
 * schema from api.ts and every failure becomes a FerryError with the server's stable code.
 * `base` is the server's origin (`https://ferry.example`), or '' for URLs relative to the
 * page the app runs on. Only fetch, so it runs the same in browsers and Node ≥ 20. The
 * schema-free part (requests, errors, the ciphertext GET) is http-client.ts.
 */
import {
  type CreatedShare,
  type CreateShareRequest,
  type CreateShareResponse,
  createdShareSchema,
  createShareResponseSchema,
  type DownloadRequest,
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
} from './api.ts';
import { FerryError } from './errors.ts';
import { bearer, errorFromResponse, fetchCiphertextAt, json, request } from './http-client.ts';
import type { z } from './zod.ts';

/** A fetch whose answer is parsed with `schema`; any failure is a FerryError. */
export async function call<S extends z.ZodType>(schema: S, path: string, init: RequestInit = {}): Promise<z.output<S>> {
  const response = await request(path, init);
  if (!response.ok) throw await errorFromResponse(response);
  const parsed = schema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new FerryError('INTERNAL', 'The server sent an answer Ferry does not understand.');
  return parsed.data;
}

export interface ShareApiOptions {
  /** Headers for creating a share (an upload key, on a server that wants one). */
  creationHeaders?: () => Promise<Record<string, string>>;
}

/** The routes of README "HTTP API" under /api/shares, against one server. */
export class ShareApi {
  readonly #base: string;
  readonly #shares: string;
  readonly #creationHeaders: () => Promise<Record<string, string>>;

  constructor(base: string, options: ShareApiOptions = {}) {
    this.#base = base.replace(/\/+$/, '');
    this.#shares = `${this.#base}/api/shares`;
    this.#creationHeaders = options.creationHeaders ?? (async () => ({}));
  }

  /** Creates a share; the answer carries its owner and upload tokens. */
  async createShare(body: CreateShareRequest): Promise<CreateShareResponse> {
    const headers = { ...json, ...(await this.#creationHeaders()) };
    return call(createShareResponseSchema, this.#shares, { method: 'POST', headers, body: JSON.stringify(body) });
  }

  /**
   * A share at a proposed id whose owner and upload tokens the client made (it sends their
   * hashes): the answer carries no tokens, and asking again with the same body after a lost
   * answer gets the same share.
   */
  async createShareWithOwnTokens(
    body: CreateShareRequest & Required<Pick<CreateShareRequest, 'id' | 'ownerHash' | 'uploadHash'>>,
  ): Promise<CreatedShare> {
    const headers = { ...json, ...(await this.#creationHeaders()) };
    return call(createdShareSchema, this.#shares, { method: 'POST', headers, body: JSON.stringify(body) });
  }

  getShareInfo(id: string): Promise<ShareInfo> {
    return call(shareInfoSchema, `${this.#shares}/${id}`);
  }

  getManifest(id: string, readerToken: string): Promise<ShareManifestResponse> {
    return call(shareManifestResponseSchema, `${this.#shares}/${id}/manifest`, { headers: bearer(readerToken) });
  }

  getOwnerView(id: string, ownerToken: string): Promise<ShareOwnerView> {
    return call(shareOwnerViewSchema, `${this.#shares}/${id}/owner`, { headers: bearer(ownerToken) });
  }

  updateShare(id: string, ownerToken: string, body: UpdateShareRequest): Promise<ShareOwnerView> {
    return call(shareOwnerViewSchema, `${this.#shares}/${id}`, {
      method: 'PATCH',
      headers: bearer(ownerToken, json),
      body: JSON.stringify(body),
    });
  }

  async revokeShare(id: string, ownerToken: string): Promise<void> {
    const response = await request(`${this.#shares}/${id}`, { method: 'DELETE', headers: bearer(ownerToken) });
    if (!response.ok) throw await errorFromResponse(response);
  }

  requestTicket(
    id: string,
    readerToken: string,
    files: number[],
    purpose: DownloadRequest['purpose'] = 'download',
  ): Promise<DownloadTicket> {
    const body: DownloadRequest = purpose === 'download' ? { files } : { files, purpose };
    return call(downloadTicketSchema, `${this.#shares}/${id}/downloads`, {
      method: 'POST',
      headers: bearer(readerToken, json),
      body: JSON.stringify(body),
    });
  }

  /** The owner reports ciphertext it sent straight to the holder of a ticket (server/shares/peer-coverage.ts). */
  reportPeerCoverage(id: string, ownerToken: string, body: PeerCoverageRequest): Promise<PeerCoverageResponse> {
    return call(peerCoverageResponseSchema, `${this.#shares}/${id}/peer-coverage`, {
      method: 'POST',
      headers: bearer(ownerToken, json),
      body: JSON.stringify(body),
    });
  }

  /**
   * Ciphertext of one file from byte `start` (to the end, or to `end` exclusive) under a
   * ticket. Answers the Response so the caller can stream its body.
   */
  fetchCiphertext(
    id: string,
    index: number,
    auth: { readerToken: string; ticket: string },
    start = 0,
    end?: number,
    signal?: AbortSignal,
  ): Promise<Response> {
    return fetchCiphertextAt(this.#base, id, index, auth, start, end, signal);
  }
}
