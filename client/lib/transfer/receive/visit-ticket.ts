/**
 * One download ticket per visit of a share link.
 *
 * Why one, naming every file: the server counts a download when a ticket *completes*, that
 * is when every file it names has been sent whole, and while a ticket is open it holds one
 * of the share's limited places (ARCHITECTURE.md "Download limits"). A ticket per click
 * (naming only that file) made each single file a whole download: with a limit of 1 and
 * three files, the first file completed its ticket, used up the limit, and the other two
 * could never be fetched. So the page asks for one ticket naming ALL files at its first
 * download action and reuses it for every later per-file click and for "Download all". A
 * visit that fetches every file, one by one or as a ZIP or both, completes that one ticket
 * and counts exactly one download. A visit that fetches only some files holds one place
 * until its ticket lapses, and then counts once (a lapsed ticket that sent ciphertext
 * counts, ARCHITECTURE.md), not once per file.
 *
 * The server renews an open ticket on every GET and lets a completed one re-read its files
 * for a grace period. Once it refuses the ticket (401: lapsed after 10 minutes idle, or
 * past that grace), a later action asks for a new ticket, once; that one may count again,
 * as a new download should. Reuse is checked with a HEAD of the file about to be fetched, which
 * sends no bytes, so a stale ticket is replaced before any sink has started a download.
 */
import { type DownloadTicket, TICKET_HEADER } from '../../../../shared/api.ts';
import { request } from '../../api/share-client.ts';

export interface TicketDeps {
  /** POST /downloads for these file indices. */
  request(files: number[]): Promise<DownloadTicket>;
  /** False only when the server refuses `ticket` for file `index` as lapsed or unknown (401). */
  accepts(ticket: string, index: number): Promise<boolean>;
}

export class VisitTicket {
  readonly #files: number[];
  readonly #deps: TicketDeps;
  /** The visit's ticket, or the request for it: callers at the same moment share one request. */
  #ticket: Promise<string> | null = null;

  constructor(fileCount: number, deps: TicketDeps) {
    this.#files = Array.from({ length: fileCount }, (_, i) => i);
    this.#deps = deps;
  }

  /** A ticket that names every file of the share, for an action that starts with file `index`. */
  async for(index: number): Promise<string> {
    const held = this.#ticket;
    if (held !== null) {
      const ticket = await held.catch(() => null);
      if (ticket !== null && (await this.#deps.accepts(ticket, index))) return ticket;
      // Another caller may have replaced it meanwhile: its request is the one to share.
      if (this.#ticket !== held && this.#ticket !== null) return this.#ticket;
    }
    const requested = this.#deps.request(this.#files).then(({ ticket }) => ticket);
    this.#ticket = requested;
    return requested;
  }
}

/**
 * HEAD of one file with the ticket: 401 means the ticket is no longer usable. Any other
 * failure says "accepted" here, because a HEAD answer has no body to name its error: the
 * GET that follows fails with the server's code (expired, revoked, …) and is shown as such.
 */
export async function ticketAccepted(
  shareId: string,
  readerToken: string,
  ticket: string,
  index: number,
): Promise<boolean> {
  try {
    const response = await request(`/api/shares/${shareId}/files/${index}`, {
      method: 'HEAD',
      headers: { Authorization: `Bearer ${readerToken}`, [TICKET_HEADER]: ticket },
    });
    return response.status !== 401;
  } catch {
    return true;
  }
}
