/**
 * POST /api/requests/:id/uploads — a sender's files into a request. The upload is an
 * ordinary share (uploaded through tus with its upload token, completed with its owner
 * token) whose keys only the sender and the requester can derive (shared/request-keys.ts).
 * The request's limits are checked and the upload recorded in one store transaction
 * before the share exists; if creating the share fails, the record is taken back.
 */
import { randomBytes } from 'node:crypto';
import type { CreateShareResponse } from '../../shared/api.ts';
import { FerryError } from '../../shared/errors.ts';
import { tokenHash } from '../../shared/keys.ts';
import { createUploadSchema, UPLOAD_KEEP_MS } from '../../shared/request-api.ts';
import { importPublicKey } from '../../shared/request-keys.ts';
import type { AppHandler } from '../deps.ts';
import { readJson } from '../http/body.ts';
import { sendJson } from '../http/respond.ts';
import { fileStates } from '../shares/views.ts';
import { assertOpen, goneError, loadRequest } from './access.ts';
import type { AddUploadResult, RequestRecord } from './store.ts';

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

export const createUpload: AppHandler = async ({ req, res, params }, deps) => {
  const { config, requests, shares, blobs } = deps;
  const now = config.now();
  const request = await loadRequest(requests, params.id);
  assertOpen(request, now);
  await deps.createLimiter.take(deps.clientKey(req), now);
  const body = await readJson(req, config.maxJsonBytes, createUploadSchema);
  await importPublicKey(body.senderKey);
  const bytes = body.files.reduce((sum, file) => sum + file.size, 0);
  if (bytes > config.maxUploadBytes) {
    throw new FerryError('TOO_LARGE', `A share may hold at most ${config.maxUploadBytes} bytes of new uploads.`);
  }

  const shareId = token(12);
  const upload = { shareId, senderKey: body.senderKey, bytes, files: body.files.length, createdAt: now };
  const expiresAt = now + UPLOAD_KEEP_MS;
  // Senders need no upload key: the bytes count against the key that made the request.
  const creator = await deps.uploadAccess.requestUploader(req, request.id);
  const reservation = {
    shareId,
    kind: 'request-upload' as const,
    requestId: request.id,
    bytes,
    files: upload.files,
    expiresAt,
  };
  await deps.uploadAccess.reserve(creator, reservation, now);
  let result: Awaited<ReturnType<typeof shares.createShare>> | undefined;
  try {
    refuse(await requests.addUpload(request.id, upload, now), request, upload);
  } catch (error) {
    await deps.uploadAccess.unreserve(shareId);
    throw error;
  }
  const ownerToken = token(32);
  const uploadToken = token(32);
  // The upload is counted from here; if its share cannot be stored, it must not stay counted.
  try {
    result = await shares.createShare({
      id: shareId,
      ownerHash: await tokenHash(ownerToken),
      uploadHash: await tokenHash(uploadToken),
      readerHash: body.readerHash,
      manifest: body.manifest,
      createdAt: now,
      expiresAt,
      maxDownloads: null,
      password: null,
      slots: body.files.map((file) => ({ size: file.size })),
    });
  } finally {
    if (result !== 'created') {
      await requests.removeUpload(request.id, shareId);
      await deps.uploadAccess.unreserve(shareId);
    }
  }
  if (result !== 'created') throw new FerryError('INTERNAL', `The upload's share could not be stored (${result}).`);
  const answer: CreateShareResponse = {
    id: shareId,
    ownerToken,
    uploadToken,
    expiresAt,
    files: await fileStates((await shares.getShare(shareId))!, blobs),
  };
  sendJson(res, 201, answer);
};

/** Turns a refused addUpload into the error the sender sees. */
function refuse(result: AddUploadResult, request: RequestRecord, upload: { bytes: number; files: number }): void {
  switch (result) {
    case 'added':
      return;
    case 'missing':
      throw new FerryError('REQUEST_NOT_FOUND', 'There is no file request with this id.');
    case 'closed':
    case 'expired':
      throw goneError(result);
    case 'too-many-files':
      throw new FerryError(
        'REQUEST_LIMIT_REACHED',
        `This request takes at most ${request.maxFiles} files in all; this upload of ${upload.files} would pass that.`,
      );
    case 'too-many-bytes':
      throw new FerryError(
        'REQUEST_LIMIT_REACHED',
        `This request takes at most ${request.maxBytes} bytes in all; this upload of ${upload.bytes} would pass that.`,
      );
  }
}
