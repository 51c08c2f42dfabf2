/**
 * The request-link API over HTTP (README "Request links"), for the app and for `ferry`:
 * answers parsed with the schemas of request-api.ts, failures as FerryErrors with the
 * server's code. `base` is the server's origin, or '' for URLs relative to the page.
 */
import { type CreateShareResponse, createShareResponseSchema } from './api.ts';
import { call } from './api-client.ts';
import { bearer, errorFromResponse, json, request } from './http-client.ts';
import {
  type CreateRequestBody,
  type CreateRequestResponse,
  type CreateUploadBody,
  createRequestResponseSchema,
  type RequestInfo,
  type RequestOwnerView,
  requestInfoSchema,
  requestOwnerViewSchema,
} from './request-api.ts';

export interface RequestApiOptions {
  /** Headers for creating a request (an upload key, on a server that wants one). */
  creationHeaders?: () => Promise<Record<string, string>>;
}

/** The routes under /api/requests, against one server. */
export class RequestApi {
  readonly #base: string;
  readonly #creationHeaders: () => Promise<Record<string, string>>;

  constructor(base: string, options: RequestApiOptions = {}) {
    this.#base = `${base.replace(/\/+$/, '')}/api/requests`;
    this.#creationHeaders = options.creationHeaders ?? (async () => ({}));
  }

  /** Creates a request link; the answer carries its owner token. */
  async createRequest(body: CreateRequestBody): Promise<CreateRequestResponse> {
    const headers = { ...json, ...(await this.#creationHeaders()) };
    return call(createRequestResponseSchema, this.#base, { method: 'POST', headers, body: JSON.stringify(body) });
  }

  getRequestInfo(id: string): Promise<RequestInfo> {
    return call(requestInfoSchema, `${this.#base}/${id}`);
  }

  /** The requester's view: state and every upload, also after the request ended. */
  getOwnerView(id: string, ownerToken: string): Promise<RequestOwnerView> {
    return call(requestOwnerViewSchema, `${this.#base}/${id}/owner`, { headers: bearer(ownerToken) });
  }

  /** Closes the request: senders are refused from now on. */
  closeRequest(id: string, ownerToken: string): Promise<void> {
    return this.#ownerDelete(`${this.#base}/${id}`, ownerToken);
  }

  /** Removes one upload: its share is revoked and its room in the request freed. */
  deleteUpload(id: string, shareId: string, ownerToken: string): Promise<void> {
    return this.#ownerDelete(`${this.#base}/${id}/uploads/${shareId}`, ownerToken);
  }

  /** Creates a sender's upload (an ordinary share) inside the request. */
  createUpload(id: string, body: CreateUploadBody): Promise<CreateShareResponse> {
    return call(createShareResponseSchema, `${this.#base}/${id}/uploads`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(body),
    });
  }

  async #ownerDelete(url: string, ownerToken: string): Promise<void> {
    const response = await request(url, { method: 'DELETE', headers: bearer(ownerToken) });
    if (!response.ok) throw await errorFromResponse(response);
  }
}
