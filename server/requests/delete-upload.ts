/**
 * DELETE /api/requests/:id/uploads/:shareId — the requester removes one upload (say, files
 * it did not want): its share is revoked (410 for everyone, its ciphertext removed before
 * the answer) and its bytes and files no longer count against the request's limits.
 */
import { shareIdSchema } from '../../shared/api.ts';
import { FerryError } from '../../shared/errors.ts';
import type { AppHandler } from '../deps.ts';
import { requireBearer } from '../http/auth.ts';
import { sendEmpty } from '../http/respond.ts';
import { loadRequest, uploadShare } from './access.ts';

export const deleteUpload: AppHandler = async ({ req, res, params }, deps) => {
  const { requests, shares, config } = deps;
  const request = await loadRequest(requests, params.id);
  await requireBearer(req.headers.authorization, request.ownerHash, 'owner');
  const shareId = shareIdSchema.safeParse(params.shareId);
  const uploads = await requests.listUploads(request.id);
  const upload = shareId.success ? uploads.find((u) => u.shareId === shareId.data) : undefined;
  if (!upload) throw new FerryError('SHARE_NOT_FOUND', 'This request has no upload with this id.');
  const share = await uploadShare(shares, upload);
  if (share && share.state !== 'revoked') await shares.revokeShare(upload.shareId, config.now());
  await requests.removeUpload(request.id, upload.shareId);
  await deps.collect();
  sendEmpty(res, 204);
};
