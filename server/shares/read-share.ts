/**
 * The read routes of a share, one handler each:
 *   GET /api/shares/:id           public info (anyone with the id; includes the password wrap)
 *   GET /api/shares/:id/manifest  the sealed manifest and file states (reader token)
 *   GET /api/shares/:id/owner     owner view with blob handles for dedup (owner token)
 */
import type { ShareManifestResponse } from '../../shared/api.ts';
import type { AppHandler } from '../deps.ts';
import { requireBearer } from '../http/auth.ts';
import { sendJson } from '../http/respond.ts';
import { assertDownloadsLeft, loadLiveShare } from './access.ts';
import { fileStates, ownerView, shareInfo } from './views.ts';

export const getShareInfo: AppHandler = async ({ res, params }, { shares, config }) => {
  const share = await loadLiveShare(shares, params.id, config.now());
  assertDownloadsLeft(share);
  sendJson(res, 200, shareInfo(share));
};

export const getManifest: AppHandler = async ({ req, res, params }, { shares, blobs, config }) => {
  const share = await loadLiveShare(shares, params.id, config.now());
  await requireBearer(req.headers.authorization, share.readerHash, 'reader');
  assertDownloadsLeft(share);
  const answer: ShareManifestResponse = {
    manifest: share.manifest,
    state: share.state === 'ready' ? 'ready' : 'uploading',
    files: await fileStates(share, blobs),
  };
  sendJson(res, 200, answer);
};

export const getOwnerView: AppHandler = async ({ req, res, params }, { shares, blobs, config }) => {
  const share = await loadLiveShare(shares, params.id, config.now());
  await requireBearer(req.headers.authorization, share.ownerHash, 'owner');
  sendJson(res, 200, await ownerView(share, blobs));
};
