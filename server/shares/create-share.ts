/**
 * POST /api/shares — a new share: tokens are made here and only their hashes are kept. A
 * share at a proposed id may bring the hashes of tokens its client made (a relay fallback's):
 * then a repeat of the same body, after the answer was lost, is answered with that share.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  type CreatedShare,
  type CreateShareRequest,
  type CreateShareResponse,
  createShareRequestSchema,
} from '../../shared/api.ts';
import { timingSafeEqual } from '../../shared/encoding.ts';
import { FerryError } from '../../shared/errors.ts';
import { tokenHash } from '../../shared/keys.ts';
import type { AppHandler } from '../deps.ts';
import { readJson } from '../http/body.ts';
import { sendJson } from '../http/respond.ts';
import type { NewShare, ShareRecord } from './store.ts';
import { fileStates } from './views.ts';

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

export const createShare: AppHandler = async ({ req, res }, deps) => {
  const { config, shares, blobs } = deps;
  const now = config.now();
  await deps.createLimiter.take(deps.clientKey(req), now);
  const creator = await deps.uploadAccess.admit(req, now);
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

  const { tokens, ownerHash, uploadHash } = await shareTokens(body);
  const share: NewShare = {
    id: body.id ?? token(12),
    ownerHash,
    uploadHash,
    readerHash: body.readerHash,
    manifest: body.manifest,
    createdAt: now,
    expiresAt: now + body.expiresInSeconds * 1000,
    maxDownloads: body.maxDownloads,
    password: body.password,
    slots,
  };
  // The new bytes are reserved under every quota before the share exists, and taken back
  // if it is then not created (a repeat of the same create finds its reservation made).
  const reserved = await deps.uploadAccess.reserve(
    creator,
    { shareId: share.id, kind: 'share', bytes: total, files: slots.length, expiresAt: share.expiresAt },
    now,
  );
  let created: Awaited<ReturnType<typeof shares.createShare>> | undefined;
  try {
    created = await shares.createShare(share);
  } finally {
    if (reserved && created !== 'created') await deps.uploadAccess.unreserve(share.id);
  }
  if (created === 'blob-gone') {
    // The blob was swept between the check above and the insert.
    throw new FerryError('FORBIDDEN', 'That upload cannot be reused: it is gone.');
  }
  const stored = await shares.getShare(share.id);
  // Only whoever made the tokens knows them, so the same hashes again are the same client
  // asking again: its first answer was lost. Anything else is someone else's id.
  if (!stored || (created === 'id-taken' && (tokens || !sameRequest(stored, share, body, now)))) {
    throw new FerryError('SHARE_ID_TAKEN', 'A share with this id exists already.');
  }
  // Only a peer transfer's relay fallback makes its own tokens (client/lib/p2p/relay-upload.ts).
  if (created === 'created' && !tokens) deps.metrics.relayFallbacks.inc();
  const answer: CreatedShare = { id: stored.id, expiresAt: stored.expiresAt, files: await fileStates(stored, blobs) };
  sendJson(
    res,
    created === 'created' ? 201 : 200,
    tokens ? ({ ...answer, ...tokens } satisfies CreateShareResponse) : answer,
  );
};

/** The share's owner and upload token hashes: the client's, or of tokens made here (then returned once). */
async function shareTokens(body: CreateShareRequest): Promise<{
  tokens: { ownerToken: string; uploadToken: string } | null;
  ownerHash: string;
  uploadHash: string;
}> {
  if (body.ownerHash !== undefined && body.uploadHash !== undefined) {
    return { tokens: null, ownerHash: body.ownerHash, uploadHash: body.uploadHash };
  }
  const tokens = { ownerToken: token(32), uploadToken: token(32) };
  return { tokens, ownerHash: await tokenHash(tokens.ownerToken), uploadHash: await tokenHash(tokens.uploadToken) };
}

/**
 * Whether a live share is what `share` (from `body`) would have created: the same three
 * token hashes, download limit, password and files. Manifest and expiry are left out (the
 * owner may have replaced the one, and the other counts from each request's time).
 */
function sameRequest(stored: ShareRecord, share: NewShare, body: CreateShareRequest, now: number): boolean {
  if (stored.state === 'revoked' || stored.purged || stored.expiresAt <= now) return false;
  const hashes = (x: ShareRecord | NewShare) => x.ownerHash + x.uploadHash + x.readerHash;
  if (!timingSafeEqual(hashes(stored), hashes(share))) return false;
  if (stored.maxDownloads !== share.maxDownloads || !isDeepStrictEqual(stored.password, share.password)) return false;
  return (
    stored.slots.length === body.files.length &&
    body.files.every((file, i) =>
      'size' in file ? stored.slots[i]!.size === file.size : stored.slots[i]!.blobId === file.reuse.blobId,
    )
  );
}
