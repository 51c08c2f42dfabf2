/**
 * POST /api/shares/:id/downloads — a download ticket for some files of a share, ready or
 * still uploading (a file being uploaded is served as far as it is stored: get-file.ts).
 * The limit is enforced in ShareStore.grantTicket, in one transaction; a ticket always
 * names whole files at their final ciphertext size, so it completes only when every byte
 * of them was sent, however many pieces that took.
 *
 * Tickets cost the server a record each, so grants are rate-limited per client network
 * and per share, and a share holds at most `maxOpenPerShare` open tickets (RATE_LIMITED
 * with Retry-After); ended tickets are forgotten by the sweeper.
 *
 * `purpose: 'thumbnail'` grants a ticket that reads only files' first records and never
 * counts (store.ts TicketPurpose); a share with a download limit refuses it.
 */
import { randomBytes } from 'node:crypto';
import { type DownloadTicket, downloadRequestSchema } from '../../shared/api.ts';
import { FerryError } from '../../shared/errors.ts';
import { tokenHash } from '../../shared/keys.ts';
import type { BucketsFactory } from '../buckets.ts';
import type { FerryConfig } from '../config.ts';
import type { AppDeps, AppHandler } from '../deps.ts';
import { requireBearer } from '../http/auth.ts';
import { readJson } from '../http/body.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import { HeaderedError, sendJson } from '../http/respond.ts';
import { assertDownloadsLeft, loadLiveShare } from './access.ts';

/** Seconds a recipient refused for too many open tickets waits before asking again. */
const OPEN_TICKETS_RETRY_S = 60;

export const createDownload: AppHandler = async (
  { req, res, params },
  { shares, config, ticketLimiters, clientKey },
) => {
  const now = config.now();
  await ticketLimiters.perClient.take(clientKey(req), now);
  const share = await loadLiveShare(shares, params.id, now);
  await requireBearer(req.headers.authorization, share.readerHash, 'reader');
  const body = await readJson(req, config.maxJsonBytes, downloadRequestSchema);
  const purpose = body.purpose ?? 'download';
  assertDownloadsLeft(share);
  const files = [...new Set(body.files)].sort((a, b) => a - b);
  for (const index of files) {
    const slot = share.slots[index];
    if (!slot) throw new FerryError('FILE_NOT_FOUND', `The share has no file ${index}.`);
  }
  await ticketLimiters.perShare.take(share.id, now);
  const ticket = randomBytes(32).toString('base64url');
  const granted = await shares.grantTicket({
    hash: await tokenHash(ticket),
    shareId: share.id,
    files,
    now,
    idleMs: config.ticketIdleMs,
    maxOpen: config.tickets.maxOpenPerShare,
    purpose,
  });
  if (granted === 'gone') throw new FerryError('SHARE_NOT_FOUND', 'There is no share with this id.');
  if (granted === 'limit-reached') {
    throw new FerryError('DOWNLOAD_LIMIT_REACHED', 'Every allowed download is taken or in progress.');
  }
  if (granted === 'limited') {
    throw new FerryError(
      'THUMBNAILS_NOT_OFFERED',
      'This share has a download limit: thumbnails would take a counted download.',
    );
  }
  if (granted === 'too-many-open') {
    throw new HeaderedError('RATE_LIMITED', 'Too many downloads of this share are under way; try again soon.', {
      'Retry-After': String(OPEN_TICKETS_RETRY_S),
    });
  }
  const answer: DownloadTicket = { ticket, expiresAt: now + config.ticketIdleMs };
  sendJson(res, 201, answer);
};

/** The buckets createDownload takes from (config.tickets). */
export function ticketLimiters(config: FerryConfig, buckets: BucketsFactory): AppDeps['ticketLimiters'] {
  const { perClient, perShare } = config.tickets;
  return {
    perClient: new RateLimiter(
      buckets,
      'tickets-per-client',
      perClient,
      'Too many download tickets asked for from this address; try again in a minute.',
    ),
    perShare: new RateLimiter(
      buckets,
      'tickets-per-share',
      perShare,
      'Too many download tickets asked for this share right now; try again in a minute.',
    ),
  };
}
