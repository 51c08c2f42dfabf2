/**
 * The owner's changes, one handler each:
 *   PATCH  /api/shares/:id  replace the manifest, set expiry, mark complete
 *   DELETE /api/shares/:id  revoke: 410 for everyone, uploads and unshared blobs removed
 */
import { updateShareRequestSchema } from '../../shared/api.ts';
import { FerryError } from '../../shared/errors.ts';
import type { AppHandler } from '../deps.ts';
import { requireBearer } from '../http/auth.ts';
import { readJson } from '../http/body.ts';
import { sendEmpty, sendJson } from '../http/respond.ts';
import { loadLiveShare } from './access.ts';
import { ownerView } from './views.ts';

export const updateShare: AppHandler = async ({ req, res, params }, { shares, blobs, config }) => {
  const now = config.now();
  const share = await loadLiveShare(shares, params.id, now);
  await requireBearer(req.headers.authorization, share.ownerHash, 'owner');
  const body = await readJson(req, config.maxJsonBytes, updateShareRequestSchema);
  // Completion first: a refused completion must not leave half the patch applied.
  if (body.complete && !(await shares.markReady(share.id))) {
    throw new FerryError('CONFLICT', 'Every file must be fully uploaded before the share is complete.');
  }
  await shares.updateShare(share.id, {
    ...(body.manifest !== undefined && { manifest: body.manifest }),
    ...(body.expiresInSeconds !== undefined && { expiresAt: now + body.expiresInSeconds * 1000 }),
  });
  sendJson(res, 200, await ownerView((await shares.getShare(share.id))!, blobs));
};

export const revokeShare: AppHandler = async ({ req, res, params }, deps) => {
  const { shares, config } = deps;
  const now = config.now();
  const share = await loadLiveShare(deps.shares, params.id, now);
  await requireBearer(req.headers.authorization, share.ownerHash, 'owner');
  await shares.revokeShare(share.id, now);
  // Remove its uploads and unshared blobs now rather than at the next sweep.
  await deps.collect();
  sendEmpty(res, 204);
};
