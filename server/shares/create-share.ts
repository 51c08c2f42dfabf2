/** POST /api/shares — a new share: tokens are made here and only their hashes are kept. */
import { randomBytes } from 'node:crypto';
import { type CreateShareResponse, createShareRequestSchema } from '../../shared/api.ts';
import { timingSafeEqual } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { tokenHash } from '../../shared/keys.ts';
import type { AppHandler } from '../deps.ts';
import { readJson } from '../http/body.ts';
import { sendJson } from '../http/respond.ts';
import type { NewShare } from './store.ts';
import { fileStates } from './views.ts';

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

export const createShare: AppHandler = async ({ req, res }, deps) => {
  const { config, shares, blobs } = deps;
  const now = config.now();
  deps.createLimiter.take(req.socket.remoteAddress ?? 'unknown', now);
  const body = await readJson(req, config.maxJsonBytes, createShareRequestSchema);

  // Reused blobs: the blobToken proves the caller once held this ciphertext's share.
  const slots: NewShare['slots'] = [];
  let total = 0;
  for (const file of body.files) {
    if ('size' in file) {
      slots.push({ size: file.size });
      total += file.size;
      continue;
    }
    const blob = await shares.getBlob(file.reuse.blobId);
    // A partial blob (a relay fallback's, starting mid-file) is not a whole file to reuse.
    if (!blob?.sealed || blob.base !== 0 || !blob.token || !timingSafeEqual(blob.token, file.reuse.blobToken)) {
      throw new FerryError('FORBIDDEN', 'That upload cannot be reused: it is gone or the blob token is wrong.');
    }
    slots.push({ reuseBlobId: blob.id });
  }
  if (total > config.maxUploadBytes) {
    throw new FerryError('TOO_LARGE', `A share may hold at most ${config.maxUploadBytes} bytes of new uploads.`);
  }

  const ownerToken = token(32);
  const uploadToken = token(32);
  const share: NewShare = {
    id: body.id ?? token(12),
    ownerHash: await tokenHash(ownerToken),
    uploadHash: await tokenHash(uploadToken),
    readerHash: body.readerHash,
    manifest: body.manifest,
    createdAt: now,
    expiresAt: now + body.expiresInSeconds * 1000,
    maxDownloads: body.maxDownloads,
    password: body.password,
    slots,
  };
  const created = await shares.createShare(share);
  if (created === 'id-taken') throw new FerryError('SHARE_ID_TAKEN', 'A share with this id exists already.');
  if (created === 'blob-gone') {
    // The blob was swept between the check above and the insert.
    throw new FerryError('FORBIDDEN', 'That upload cannot be reused: it is gone.');
  }
  const stored = (await shares.getShare(share.id))!;
  const answer: CreateShareResponse = {
    id: share.id,
    ownerToken,
    uploadToken,
    expiresAt: share.expiresAt,
    files: await fileStates(stored, blobs),
  };
  sendJson(res, 201, answer);
};
