/**
 * The read routes of a request, one handler each:
 *   GET /api/requests/:id        limits and what is used (anyone with the link; 410 once it takes no files)
 *   GET /api/requests/:id/owner  the requester's view with every upload (owner token; also after it ended)
 */
import type { AppHandler } from '../deps.ts';
import { requireBearer } from '../http/auth.ts';
import { sendJson } from '../http/respond.ts';
import { assertOpen, loadRequest } from './access.ts';
import { requestInfo, requestOwnerView } from './views.ts';

export const getRequestInfo: AppHandler = async ({ res, params }, { requests, config }) => {
  const request = await loadRequest(requests, params.id);
  assertOpen(request, config.now());
  sendJson(res, 200, requestInfo(request));
};

export const getRequestOwnerView: AppHandler = async ({ req, res, params }, deps) => {
  const request = await loadRequest(deps.requests, params.id);
  await requireBearer(req.headers.authorization, request.ownerHash, 'owner');
  sendJson(res, 200, await requestOwnerView(request, deps, deps.config.now()));
};
