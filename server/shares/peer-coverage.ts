/**
 * POST /api/shares/:id/peer-coverage — the sender's open tab reports ciphertext it sent
 * straight to a recipient (client/lib/p2p/share-host.svelte.ts). The recipient's ticket
 * is granted here as for any download (create-download.ts, the limit's one transaction);
 * the bytes the sender reports are added to that ticket's coverage exactly as get-file.ts
 * adds what it wrote to a socket, so a pulled download completes, lapses and counts like a
 * server download, once, whichever mix of peer and server sent its bytes. Only the owner
 * can report (it can only make its own share count more). Idempotent: coverage is a union
 * of intervals. An empty range checks the ticket and keeps it from lapsing.
 */
import { type PeerCoverageResponse, peerCoverageRequestSchema } from '../../shared/api.ts';
import { FerryError } from '../../shared/errors.ts';
import { tokenHash } from '../../shared/keys.ts';
import type { AppHandler } from '../deps.ts';
import { requireBearer } from '../http/auth.ts';
import { readJson } from '../http/body.ts';
import { sendJson } from '../http/respond.ts';
import { loadLiveShare } from './access.ts';
import { ticketUsable } from './get-file.ts';

export const recordPeerCoverage: AppHandler = async ({ req, res, params }, { shares, config }) => {
  const now = config.now();
  const share = await loadLiveShare(shares, params.id, now);
  await requireBearer(req.headers.authorization, share.ownerHash, 'owner');
  const body = await readJson(req, config.maxJsonBytes, peerCoverageRequestSchema);
  const slot = share.slots[body.file];
  if (!slot) throw new FerryError('FILE_NOT_FOUND', `The share has no file ${body.file}.`);
  if (body.end > slot.size) throw new FerryError('INVALID_RANGE', `File ${body.file} has ${slot.size} bytes.`);
  const hash = await tokenHash(body.ticket);
  const ticket = await shares.getTicket(hash);
  if (!ticket || ticket.shareId !== share.id || !ticketUsable(ticket, now, config.ticketIdleMs)) {
    throw new FerryError('UNAUTHORIZED', 'The recipient has no current download ticket; it must ask for a new one.');
  }
  if (!ticket.files.includes(body.file))
    throw new FerryError('FORBIDDEN', `The ticket does not name file ${body.file}.`);
  let state: PeerCoverageResponse['ticket'] = ticket.state === 'done' ? 'done' : 'open';
  if (ticket.state === 'open') {
    if (body.end > body.start) {
      const result = await shares.recordCoverage(hash, body.file, body.start, body.end, now);
      if (result === 'completed') state = 'done';
    } else if (!(await shares.touchTicket(hash, now, config.ticketIdleMs))) {
      throw new FerryError('UNAUTHORIZED', 'The download ticket has lapsed; the recipient must ask for a new one.');
    }
  }
  sendJson(res, 200, { ticket: state } satisfies PeerCoverageResponse);
};
