/**
 * The browser's side of the request-link API. Answers are parsed with the schemas from
 * shared/request-api.ts; failures become FerryErrors with the server's code.
 */
import { type CreateShareResponse, createShareResponseSchema } from '../../../shared/api.ts';
import {
  type CreateRequestBody,
  type CreateRequestResponse,
  type CreateUploadBody,
  createRequestResponseSchema,
  type RequestInfo,
  type RequestOwnerView,
  requestInfoSchema,
  requestOwnerViewSchema,
} from '../../../shared/request-api.ts';
import { uploadKeyHeaders } from '../access/upload-key-db.ts';
import { bearer, call, errorFromResponse, json, request } from '../api/share-client.ts';

const base = '/api/requests';

/** Creates a request link, with this browser's upload key when it has one. */
export async function createRequest(body: CreateRequestBody): Promise<CreateRequestResponse> {
  const headers = { ...json, ...(await uploadKeyHeaders()) };
  return call(createRequestResponseSchema, base, { method: 'POST', headers, body: JSON.stringify(body) });
}

export function getRequestInfo(id: string): Promise<RequestInfo> {
  return call(requestInfoSchema, `${base}/${id}`);
}

export function getRequestOwnerView(id: string, ownerToken: string): Promise<RequestOwnerView> {
  return call(requestOwnerViewSchema, `${base}/${id}/owner`, { headers: bearer(ownerToken) });
}

/** DELETE with the owner token: closes the request, or with `shareId` removes one upload. */
async function ownerDelete(path: string, ownerToken: string): Promise<void> {
  const response = await request(path, { method: 'DELETE', headers: bearer(ownerToken) });
  if (!response.ok) throw await errorFromResponse(response);
}

export function closeRequest(id: string, ownerToken: string): Promise<void> {
  return ownerDelete(`${base}/${id}`, ownerToken);
}

/** Removes one upload: its share is revoked and its room in the request freed. */
export function deleteUpload(id: string, shareId: string, ownerToken: string): Promise<void> {
  return ownerDelete(`${base}/${id}/uploads/${shareId}`, ownerToken);
}

/** Creates a sender's upload (an ordinary share) inside the request. */
export function createUpload(id: string, body: CreateUploadBody): Promise<CreateShareResponse> {
  return call(createShareResponseSchema, `${base}/${id}/uploads`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify(body),
  });
}
