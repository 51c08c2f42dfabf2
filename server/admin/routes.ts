/**
 * The admin API under /api/admin/: every route needs the admin token (admin-token.ts), and
 * every action that changes something is logged as one line naming the action and its target.
 *   GET    /api/admin/overview       storage, live shares, request links, upload keys
 *   DELETE /api/admin/shares/:id     revoke a share (410 SHARE_REVOKED for everyone)
 *   DELETE /api/admin/requests/:id   close a request link and revoke the uploads made into it
 *   POST   /api/admin/keys           a new upload key: the key is in this answer only
 *   DELETE /api/admin/keys/:id       revoke an upload key (its shares stay until revoked)
 */
import { randomBytes } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import { type AdminOverview, type CreatedKey, createKeySchema } from '../../shared/access-api.ts';
import { shareIdSchema } from '../../shared/api.ts';
import { FerryError } from '../../shared/errors.ts';
import { tokenHash } from '../../shared/keys.ts';
import { requestIdSchema } from '../../shared/request-api.ts';
import type { AppDeps } from '../deps.ts';
import { readJson } from '../http/body.ts';
import { sendEmpty, sendJson } from '../http/respond.ts';
import type { Handler, RequestContext, Router } from '../http/router.ts';
import { requireAdmin } from './admin-token.ts';
import { keyView, requestView, shareView } from './views.ts';

type AdminHandler = (ctx: RequestContext, deps: AppDeps) => Promise<void>;

export function addAdminRoutes(router: Router, deps: AppDeps, adminHash: string): Router {
  const bind =
    (handler: AdminHandler): Handler =>
    async (ctx) => {
      await requireAdmin(ctx.req, adminHash);
      await handler(ctx, deps);
    };
  return router
    .add('/api/admin/overview', { GET: bind(overview) })
    .add('/api/admin/shares/:id', { DELETE: bind(revokeShare) })
    .add('/api/admin/requests/:id', { DELETE: bind(closeRequest) })
    .add('/api/admin/keys', { POST: bind(createKey) })
    .add('/api/admin/keys/:id', { DELETE: bind(revokeKey) });
}

const logAction = (deps: AppDeps, action: string, target: string) =>
  deps.config.logger.info({ admin: { action, target } }, `admin: action=${action} target=${target}`);

const overview: AdminHandler = async ({ res }, deps) => {
  const { access, shares, requests, config } = deps;
  const now = config.now();
  const answer: AdminOverview = {
    uploadAccess: config.uploadAccess,
    storage: {
      usedBytes: await access.storedBytes(),
      capBytes: config.maxStorageBytes,
      diskFreeBytes: await diskFree(config.dataDir),
    },
    shares: [],
    requests: [],
    keys: [],
  };
  for (const reservation of await access.liveReservations()) {
    const share = await shares.getShare(reservation.shareId);
    if (share) answer.shares.push(shareView(reservation, share, now));
  }
  for (const link of await access.listRequestLinks()) {
    const request = await requests.getRequest(link.id);
    if (request) {
      const uploads = (await requests.listUploads(link.id)).length;
      answer.requests.push(requestView(request, uploads, link.keyId, now));
    }
  }
  for (const key of await access.listKeys()) answer.keys.push(await keyView(key, deps, now));
  sendJson(res, 200, answer);
};

async function diskFree(dir: string): Promise<number | null> {
  try {
    const fs = await statfs(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return null;
  }
}

const revokeShare: AdminHandler = async ({ res, params }, deps) => {
  const id = shareIdSchema.safeParse(params.id);
  const share = id.success ? await deps.shares.getShare(id.data) : undefined;
  if (!share) throw new FerryError('SHARE_NOT_FOUND', 'There is no share with this id.');
  if (share.state !== 'revoked') await deps.shares.revokeShare(share.id, deps.config.now());
  // Removes its uploads and unshared blobs, and releases its bytes, before the answer.
  await deps.collect();
  logAction(deps, 'revoke-share', share.id);
  sendEmpty(res, 204);
};

const closeRequest: AdminHandler = async ({ res, params }, deps) => {
  const { requests, shares, config } = deps;
  const now = config.now();
  const id = requestIdSchema.safeParse(params.id);
  const request = id.success ? await requests.getRequest(id.data) : undefined;
  if (!request) throw new FerryError('REQUEST_NOT_FOUND', 'There is no file request with this id.');
  await requests.closeRequest(request.id, now);
  for (const upload of await requests.listUploads(request.id)) {
    const share = await shares.getShare(upload.shareId);
    if (share && share.state !== 'revoked') await shares.revokeShare(share.id, now);
  }
  await deps.collect();
  logAction(deps, 'close-request', request.id);
  sendEmpty(res, 204);
};

const createKey: AdminHandler = async ({ req, res }, deps) => {
  const { access, config } = deps;
  const now = config.now();
  const body = await readJson(req, config.maxJsonBytes, createKeySchema);
  const key = `fk_${randomBytes(32).toString('base64url')}`;
  const id = randomBytes(9).toString('base64url');
  await access.createKey({
    id,
    hash: await tokenHash(key),
    label: body.label,
    maxStoredBytes: body.maxStoredBytes,
    maxDailyBytes: body.maxDailyBytes,
    expiresAt: body.expiresInSeconds === null ? null : now + body.expiresInSeconds * 1000,
    createdAt: now,
  });
  logAction(deps, 'create-key', id);
  const answer: CreatedKey = { key, view: await keyView((await access.getKey(id))!, deps, now) };
  sendJson(res, 201, answer);
};

const revokeKey: AdminHandler = async ({ res, params }, deps) => {
  const id = params.id ?? '';
  if (!(await deps.access.revokeKey(id, deps.config.now()))) {
    throw new FerryError('NOT_FOUND', 'There is no upload key with this id.');
  }
  logAction(deps, 'revoke-key', id);
  sendEmpty(res, 204);
};
