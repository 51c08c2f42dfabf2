/** The request-link API's routes: one handler per method. */
import type { AppDeps, AppHandler } from '../deps.ts';
import type { Handler, Router } from '../http/router.ts';
import { closeRequest } from './close-request.ts';
import { createRequest } from './create-request.ts';
import { createUpload } from './create-upload.ts';
import { deleteUpload } from './delete-upload.ts';
import { getRequestInfo, getRequestOwnerView } from './read-request.ts';

export function addRequestRoutes(router: Router, deps: AppDeps): Router {
  const bind =
    (handler: AppHandler): Handler =>
    (ctx) =>
      handler(ctx, deps);
  return router
    .add('/api/requests', { POST: bind(createRequest) })
    .add('/api/requests/:id', { GET: bind(getRequestInfo), DELETE: bind(closeRequest) })
    .add('/api/requests/:id/owner', { GET: bind(getRequestOwnerView) })
    .add('/api/requests/:id/uploads', { POST: bind(createUpload) })
    .add('/api/requests/:id/uploads/:shareId', { DELETE: bind(deleteUpload) });
}
