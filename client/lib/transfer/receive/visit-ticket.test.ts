import { describe, expect, it } from 'vitest';
import type { DownloadTicket } from '../../../../shared/api.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { type TicketDeps, VisitTicket } from './visit-ticket.ts';

/**
 * The server's counting rule in miniature (ARCHITECTURE.md "Download limits"): a ticket
 * is granted while completed + open < limit, and completes (counting one download) once
 * every file it names was sent whole.
 */
class FakeServer implements TicketDeps {
  downloads = 0;
  requests: number[][] = [];
  readonly #tickets = new Map<string, { files: Set<number>; sent: Set<number>; state: 'open' | 'done' | 'lapsed' }>();

  constructor(readonly limit: number) {}

  async request(files: number[]): Promise<DownloadTicket> {
    this.requests.push(files);
    const open = [...this.#tickets.values()].filter((t) => t.state === 'open').length;
    if (this.downloads + open >= this.limit) throw new FerryError('DOWNLOAD_LIMIT_REACHED', 'x');
    const ticket = `t${this.requests.length}`;
    this.#tickets.set(ticket, { files: new Set(files), sent: new Set(), state: 'open' });
    return { ticket, expiresAt: 0 };
  }

  async accepts(ticket: string): Promise<boolean> {
    const t = this.#tickets.get(ticket);
    return t !== undefined && t.state !== 'lapsed';
  }

  /** A whole GET of file `index`. */
  send(ticket: string, index: number): void {
    const t = this.#tickets.get(ticket);
    if (!t || t.state === 'lapsed') throw new FerryError('UNAUTHORIZED', 'x');
    if (!t.files.has(index)) throw new FerryError('FORBIDDEN', 'x');
    t.sent.add(index);
    if (t.state === 'open' && t.sent.size === t.files.size) {
      t.state = 'done';
      this.downloads += 1;
    }
  }

  lapse(ticket: string): void {
    const t = this.#tickets.get(ticket);
    if (t) t.state = 'lapsed';
  }
}

describe('VisitTicket', () => {
  it('lets a visit fetch every file one by one under a limit of 1, counting one download', async () => {
    const server = new FakeServer(1);
    const visit = new VisitTicket(3, server);
    for (const index of [0, 1, 2]) server.send(await visit.for(index), index);
    expect(server.requests).toEqual([[0, 1, 2]]);
    expect(server.downloads).toBe(1);

    // Download all afterwards re-reads under the same (completed) ticket: still one.
    const again = await visit.for(0);
    for (const index of [0, 1, 2]) server.send(again, index);
    expect(server.requests).toHaveLength(1);
    expect(server.downloads).toBe(1);

    // Another visit finds the limit used up.
    await expect(new VisitTicket(3, server).for(0)).rejects.toMatchObject({ code: 'DOWNLOAD_LIMIT_REACHED' });
  });

  it('asks for a new ticket, once, when the one it holds has lapsed', async () => {
    const server = new FakeServer(2);
    const visit = new VisitTicket(2, server);
    const first = await visit.for(0);
    server.send(first, 0);
    server.lapse(first);

    const second = await visit.for(1);
    expect(second).not.toBe(first);
    expect(server.requests).toEqual([
      [0, 1],
      [0, 1],
    ]);
    server.send(second, 1);
    expect(await visit.for(0)).toBe(second);
    expect(server.requests).toHaveLength(2);
  });

  it('does not keep a ticket the server refused to replace', async () => {
    const server = new FakeServer(1);
    const visit = new VisitTicket(1, server);
    const first = await visit.for(0);
    server.lapse(first);
    const other = new VisitTicket(1, server);
    await other.for(0); // someone else takes the only place
    await expect(visit.for(0)).rejects.toMatchObject({ code: 'DOWNLOAD_LIMIT_REACHED' });
    expect(server.requests).toHaveLength(3);
  });

  it('asks once when several files start at the same moment (thumbnails of a page)', async () => {
    const server = new FakeServer(5);
    const visit = new VisitTicket(3, server);
    const tickets = await Promise.all([visit.for(0), visit.for(1), visit.for(2)]);
    expect(new Set(tickets).size).toBe(1);
    expect(server.requests).toHaveLength(1);
    server.lapse(tickets[0] ?? '');
    const renewed = await Promise.all([visit.for(0), visit.for(1)]);
    expect(renewed[0]).toBe(renewed[1]);
    expect(server.requests).toHaveLength(2);
  });
});
