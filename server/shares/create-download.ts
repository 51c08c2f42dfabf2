/**
 * POST /api/shares/:id/downloads — a download ticket for some files of a share, ready or
 * still uploading (a file being uploaded is served as far as it is stored: get-file.ts).
 * The limit is enforced in ShareStore.grantTicket, in one transaction; a ticket always
 * names whole files at their final ciphertext size, so it completes only when every byte
 * of them was sent, however many pieces that took.
 */
import { randomBytes } from 'node:crypto';
import { type DownloadTicket, downloadRequestSchema } from '../../shared/api.ts';
import { FerryError } from '../../shared/errors.ts';
import { tokenHash } from '../../shared/keys.ts';
import type { AppHandler } from '../deps.ts';
import { requireBearer } from '../http/auth.ts';
import { readJson } from '../http/body.ts';
import { sendJson } from '../http/respond.ts';
import { assertDownloadsLeft, loadLiveShare } from './access.ts';

export const createDownload: AppHandler = async ({ req, res, params }, { shares, config }) => {
  const now = config.now();
  const share = await loadLiveShare(shares, params.id, now);
  await requireBearer(req.headers.authorization, share.readerHash, 'reader');
  const body = await readJson(req, config.maxJsonBytes, downloadRequestSchema);
  assertDownloadsLeft(share);
  const files = [...new Set(body.files)].sort((a, b) => a - b);
  for (const index of files) {
    const slot = share.slots[index];
    if (!slot) throw new FerryError('FILE_NOT_FOUND', `The share has no file ${index}.`);
  }
  const ticket = randomBytes(32).toString('base64url');
  const granted = await shares.grantTicket({
    hash: await tokenHash(ticket),
    shareId: share.id,
    files,
    now,
    idleMs: config.ticketIdleMs,
  });
  if (!granted) {
    throw new FerryError('DOWNLOAD_LIMIT_REACHED', 'Every allowed download is taken or in progress.');
  }
  const answer: DownloadTicket = { ticket, expiresAt: now + config.ticketIdleMs };
  sendJson(res, 201, answer);
};
