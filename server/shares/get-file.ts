/**
 * GET|HEAD /api/shares/:id/files/:index — one file's ciphertext, whole or by Range, for a
 * reader holding a ticket that names the file. Bytes the socket accepted are added to the
 * ticket's coverage every few seconds and when the response ends or is cut; a cut-off
 * response therefore counts only what was sent, even when the server itself died, and the
 * download counts once every file is covered (resumes included).
 *
 * While the file is still being uploaded (its tus upload exists but is not sealed), only the
 * bytes already stored are served: `206` with `Content-Range: bytes a-b/*` (the total is
 * not final until the upload is), and `425` when nothing at or after the start is stored
 * yet. @tus/file-store only appends, so bytes [0, size on disk) never change.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { TICKET_HEADER, tokenSchema } from '../../shared/api.ts';
import { parseRange } from '../../shared/byte-range.ts';
import { FerryError } from '../../shared/errors.ts';
import { tokenHash } from '../../shared/keys.ts';
import { THUMBNAIL_CIPHER_BYTES } from '../../shared/limits.ts';
import type { AppHandler } from '../deps.ts';
import { requireBearer } from '../http/auth.ts';
import { BASE_HEADERS, HeaderedError } from '../http/respond.ts';
import { loadLiveShare } from './access.ts';
import { MAX_PIECES, wouldAddPiece } from './intervals.ts';
import type { ShareStore, TicketRecord } from './store.ts';

const INDEX = /^(0|[1-9][0-9]{0,3})$/;
/** How often a running response records the bytes the socket has accepted: by time and by bytes. */
const COVERAGE_CHECKPOINT_MS = 2000;
const COVERAGE_CHECKPOINT_BYTES = 1024 * 1024;

/** An open ticket is usable while not idle; a completed one for a grace period after completion. */
export function ticketUsable(ticket: TicketRecord, now: number, idleMs: number): boolean {
  if (ticket.state === 'open') return ticket.lastActiveAt >= now - idleMs;
  if (ticket.state === 'done') return (ticket.completedAt ?? 0) >= now - idleMs;
  return false;
}

/**
 * The 401 for a ticket that is missing or no longer usable, unless the share ended while this
 * request was on its way: a revoke deletes the share's tickets at once (Sweeper.collect), so a
 * read that passed loadLiveShare just before it found no ticket and said "ask for a new one"
 * (the preview then told the recipient it had lapsed) instead of that the share is gone.
 */
export async function ticketRefused(
  shares: ShareStore,
  shareId: string,
  now: number,
  message: string,
): Promise<FerryError> {
  await loadLiveShare(shares, shareId, now);
  return new FerryError('UNAUTHORIZED', message);
}

export const getFile: AppHandler = async ({ req, res, params }, { shares, blobs, config }) => {
  const now = config.now();
  const share = await loadLiveShare(shares, params.id, now);
  await requireBearer(req.headers.authorization, share.readerHash, 'reader');
  const index = INDEX.test(params.index ?? '') ? Number(params.index) : -1;
  const slot = share.slots[index];
  if (!slot) throw new FerryError('FILE_NOT_FOUND', 'The share has no such file.');

  const rawTicket = tokenSchema.safeParse(req.headers[TICKET_HEADER.toLowerCase()]);
  const hash = rawTicket.success ? await tokenHash(rawTicket.data) : undefined;
  const ticket = hash ? await shares.getTicket(hash) : undefined;
  if (!ticket || ticket.shareId !== share.id || !ticketUsable(ticket, now, config.ticketIdleMs)) {
    throw await ticketRefused(
      shares,
      share.id,
      config.now(),
      `This needs a current download ticket (${TICKET_HEADER}); ask for a new one.`,
    );
  }
  if (!ticket.files.includes(index)) throw new FerryError('FORBIDDEN', `The ticket does not name file ${index}.`);

  const size = slot.size;
  const growing = !slot.sealed;
  const range = parseRange(req.headers.range, size);
  if (range.kind === 'unsatisfiable') {
    throw new HeaderedError('INVALID_RANGE', `The range lies outside the file (${size} bytes).`, {
      'Content-Range': `bytes */${size}`,
    });
  }
  // A thumbnail ticket reads only a file's first records; it records no coverage.
  if (ticket.purpose === 'thumbnail' && (range.kind === 'full' ? size : range.end + 1) > THUMBNAIL_CIPHER_BYTES) {
    throw new HeaderedError(
      'THUMBNAIL_RANGE_EXCEEDED',
      `A thumbnail ticket reads only the first ${THUMBNAIL_CIPHER_BYTES} bytes of a file.`,
      { 'Content-Range': `bytes */${size}` },
    );
  }
  // A relay fallback's upload starts at `base`: the recipient had the bytes before it.
  if (slot.base > 0 && (range.kind === 'full' || range.start < slot.base)) {
    throw new HeaderedError(
      'RANGE_NOT_STORED',
      `File ${index} is stored from byte ${slot.base} on; ask for a range that starts there or later.`,
      { 'Content-Range': `bytes */${size}` },
    );
  }
  if (ticket.state === 'open' && ticket.purpose === 'download' && range.kind === 'partial') {
    if (wouldAddPiece(await shares.coverage(ticket.hash, index), range.start)) {
      throw new HeaderedError(
        'INVALID_RANGE',
        `This ticket has fetched file ${index} in ${MAX_PIECES} separate pieces; continue from where one ended.`,
        { 'Content-Range': `bytes */${size}` },
      );
    }
  }
  // The check above used the clock from the start of the request; a grant since then may
  // have found this ticket idle and handed its place out. Claim it with a fresh clock.
  if (ticket.state === 'open' && !(await shares.touchTicket(ticket.hash, config.now(), config.ticketIdleMs))) {
    throw await ticketRefused(shares, share.id, config.now(), 'This download ticket has lapsed; ask for a new one.');
  }
  const blobId = slot.blobId;
  const start = range.kind === 'partial' ? range.start : 0;
  let end = range.kind === 'partial' ? range.end : size - 1;
  if (growing) {
    // Served only up to what is stored; the ticket was touched above, so a recipient
    // waiting for the sender keeps its place.
    const stored = blobId ? Math.min(size, slot.base + ((await blobs.size(blobId)) ?? 0)) : 0;
    if (start >= stored) {
      throw new FerryError(
        'FILE_NOT_READY',
        `File ${index} is still being uploaded; ${stored} bytes are stored so far.`,
      );
    }
    end = Math.min(end, stored - 1);
  }
  if (!blobId) throw new FerryError('FILE_NOT_READY', `File ${index} is still being uploaded.`);
  const partial = range.kind === 'partial' || growing;
  const headers: Record<string, string | number> = {
    ...BASE_HEADERS,
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Content-Length': end - start + 1,
    'Cache-Control': 'no-store',
  };
  if (partial) headers['Content-Range'] = `bytes ${start}-${end}/${growing ? '*' : size}`;
  res.writeHead(partial ? 206 : 200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }

  // While bytes flow, record what the socket has accepted so far: every COVERAGE_CHECKPOINT_BYTES
  // and every few seconds. This keeps a long transfer's ticket from lapsing (recording
  // touches it) and, because the coverage is on disk, a server killed mid-response still
  // knows all it sent but the last MiB or so; the client re-fetches a little more than that
  // when it resumes after a dropped connection (client/lib/transfer/receive/resume.ts), so
  // the coverage stays whole and the ticket completes. A stalled client records nothing and
  // so holds its place no longer than the idle time.
  let recorded = 0;
  let recording = false;
  const record = async (): Promise<void> => {
    const accepted = transfer.accepted();
    if (ticket.state !== 'open' || ticket.purpose !== 'download' || accepted === recorded || recording) return;
    recorded = accepted;
    recording = true;
    try {
      await shares.recordCoverage(ticket.hash, index, start, start + accepted, config.now());
    } finally {
      recording = false;
    }
  };
  const transfer = pump(blobs.read(blobId, start - slot.base, end - slot.base), res, end - start + 1, (accepted) => {
    if (accepted - recorded >= COVERAGE_CHECKPOINT_BYTES) void record().catch(() => undefined);
  });
  const checkpoint = setInterval(
    () => void record().catch(() => undefined),
    Math.max(200, Math.min(COVERAGE_CHECKPOINT_MS, Math.floor(config.ticketIdleMs / 3))),
  );
  checkpoint.unref();
  const sent = await transfer.done;
  clearInterval(checkpoint);
  if (ticket.state === 'open' && ticket.purpose === 'download' && sent > 0) {
    // The bytes before a relay upload's base never come from this share (the recipient had
    // them over the peer connection), so they count as covered once any of the rest was sent.
    if (slot.base > 0) await shares.recordCoverage(ticket.hash, index, 0, slot.base, config.now());
    await shares.recordCoverage(ticket.hash, index, start, start + sent, config.now());
  }
};

/**
 * Pipes `source` into `res`; `done` resolves with how many bytes the socket accepted: all
 * of them when the response finished, otherwise the sum of writes whose callback succeeded.
 * `accepted()` is that sum so far.
 */
function pump(
  source: Readable,
  res: ServerResponse,
  total: number,
  onAccepted: (accepted: number) => void,
): { done: Promise<number>; accepted(): number } {
  let accepted = 0;
  const done = new Promise<number>((resolve) => {
    let finished = false;
    source.on('data', (chunk: Buffer) => {
      const ok = res.write(chunk, (error) => {
        if (error) return;
        accepted += chunk.length;
        onAccepted(accepted);
      });
      if (!ok) source.pause();
    });
    res.on('drain', () => source.resume());
    source.on('end', () => res.end());
    source.on('error', () => res.destroy());
    res.on('finish', () => {
      finished = true;
    });
    res.on('close', () => {
      source.destroy();
      resolve(finished ? total : accepted);
    });
  });
  return { done, accepted: () => accepted };
}
