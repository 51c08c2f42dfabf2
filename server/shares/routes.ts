/** The share API's routes: one handler per method, listed where they can be read at a glance. */
import type { AppDeps, AppHandler } from '../deps.ts';
import type { Handler, Router } from '../http/router.ts';
import { createDownload } from './create-download.ts';
import { createShare } from './create-share.ts';
import { getFile } from './get-file.ts';
import { recordPeerCoverage } from './peer-coverage.ts';
import { getManifest, getOwnerView, getShareInfo } from './read-share.ts';
import { revokeShare, updateShare } from './update-share.ts';

/** The ciphertext download route (counted as a download in the metrics). */
export const FILE_ROUTE = '/api/shares/:id/files/:index';

export function addShareRoutes(router: Router, deps: AppDeps): Router {
  const bind =
    (handler: AppHandler): Handler =>
    (ctx) =>
      handler(ctx, deps);
  return router
    .add('/api/shares', { POST: bind(createShare) })
    .add('/api/shares/:id', { GET: bind(getShareInfo), PATCH: bind(updateShare), DELETE: bind(revokeShare) })
    .add('/api/shares/:id/manifest', { GET: bind(getManifest) })
    .add('/api/shares/:id/owner', { GET: bind(getOwnerView) })
    .add('/api/shares/:id/downloads', { POST: bind(createDownload) })
    .add('/api/shares/:id/peer-coverage', { POST: bind(recordPeerCoverage) })
    .add(FILE_ROUTE, { GET: bind(getFile), HEAD: bind(getFile) });
}
