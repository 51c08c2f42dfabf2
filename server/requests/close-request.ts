/**
 * DELETE /api/requests/:id — the requester closes the request: senders get 410
 * REQUEST_CLOSED from now on; what was already sent stays readable until its share expires.
 */
import type { AppHandler } from '../deps.ts';
import { requireBearer } from '../http/auth.ts';
import { sendEmpty } from '../http/respond.ts';
import { loadRequest } from './access.ts';

export const closeRequest: AppHandler = async ({ req, res, params }, { requests, config }) => {
  const request = await loadRequest(requests, params.id);
  await requireBearer(req.headers.authorization, request.ownerHash, 'owner');
  await requests.closeRequest(request.id, config.now());
  sendEmpty(res, 204);
};
