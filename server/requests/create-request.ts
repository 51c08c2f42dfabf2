/** POST /api/requests — a new request link: the owner token is made here and only its hash kept. */
import { randomBytes } from 'node:crypto';
import { tokenHash } from '../../shared/keys.ts';
import { type CreateRequestResponse, createRequestSchema } from '../../shared/request-api.ts';
import type { AppHandler } from '../deps.ts';
import { readJson } from '../http/body.ts';
import { sendJson } from '../http/respond.ts';
import { requestInfo } from './views.ts';

export const createRequest: AppHandler = async ({ req, res }, deps) => {
  const { config, requests } = deps;
  const now = config.now();
  await deps.createLimiter.take(deps.clientKey(req), now);
  const creator = await deps.uploadAccess.admit(req, now);
  const body = await readJson(req, config.maxJsonBytes, createRequestSchema);
  const ownerToken = randomBytes(32).toString('base64url');
  const id = randomBytes(12).toString('base64url');
  await requests.createRequest({
    id,
    ownerHash: await tokenHash(ownerToken),
    createdAt: now,
    expiresAt: now + body.expiresInSeconds * 1000,
    maxBytes: body.maxBytes,
    maxFiles: body.maxFiles,
  });
  // Uploads into the request count against the key that made it (access/upload-access.ts).
  await deps.access.addRequestLink({ id, keyId: creator.key?.id ?? null, createdAt: now });
  const answer: CreateRequestResponse = { ...requestInfo((await requests.getRequest(id))!), ownerToken };
  sendJson(res, 201, answer);
};
