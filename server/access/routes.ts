/** GET /api/config: what the app must know before it sends (who may create shares). */
import type { AppConfig } from '../../shared/access-api.ts';
import type { FerryConfig } from '../config.ts';
import { sendJson } from '../http/respond.ts';
import type { Router } from '../http/router.ts';

export function addConfigRoute(router: Router, config: FerryConfig): Router {
  const answer: AppConfig = { uploadAccess: config.uploadAccess };
  return router.add('/api/config', { GET: ({ res }) => sendJson(res, 200, answer) });
}
