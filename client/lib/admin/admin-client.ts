/** The browser's side of the admin API (/api/admin/*): every call carries the admin token. */
import {
  type AdminOverview,
  adminOverviewSchema,
  type CreatedKey,
  type CreateKeyRequest,
  createdKeySchema,
} from '../../../shared/access-api.ts';
import { bearer, call, errorFromResponse, json, request } from '../api/share-client.ts';

const base = '/api/admin';

export function getOverview(token: string): Promise<AdminOverview> {
  return call(adminOverviewSchema, `${base}/overview`, { headers: bearer(token) });
}

export function createKey(token: string, body: CreateKeyRequest): Promise<CreatedKey> {
  return call(createdKeySchema, `${base}/keys`, {
    method: 'POST',
    headers: bearer(token, json),
    body: JSON.stringify(body),
  });
}

/** DELETE of a share (revoke), a request link (close) or an upload key (revoke). */
export async function adminDelete(token: string, what: 'shares' | 'requests' | 'keys', id: string): Promise<void> {
  const response = await request(`${base}/${what}/${encodeURIComponent(id)}`, {
    method: 'DELETE',
    headers: bearer(token),
  });
  if (!response.ok) throw await errorFromResponse(response);
}
