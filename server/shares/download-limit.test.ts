/** Download limits are exact: under concurrent ticket requests, and only for whole downloads. */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import type { ShareInfo } from '../../shared/api.ts';
import { tokenHash } from '../../shared/keys.ts';
import {
  api,
  createTestShare,
  errorCode,
  fetchFile,
  serverForFile,
  type TestShare,
  ticketFor,
  uploadAndComplete,
} from '../test-support.ts';

const ferry = serverForFile();

/** Starts a GET, takes the headers and a first chunk, then drops the connection. */
function cutOffDownload(share: TestShare, ticket: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${ferry().url}/api/shares/${share.id}/files/0`,
      { headers: { Authorization: `Bearer ${share.readerToken}`, 'Ferry-Ticket': ticket } },
      (res) => {
        res.once('data', (chunk: Buffer) => {
          res.pause();
          setTimeout(() => {
            req.destroy();
            resolve(chunk.length);
          }, 50);
        });
      },
    );
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
  });
}

/** Lets the server record what it sent: that happens when the response closes, after the client has it all. */
const settle = () => new Promise((r) => setTimeout(r, 50));

async function downloads(share: TestShare): Promise<number> {
  // The owner view, which stays readable after the limit is reached.
  const owner = await api(ferry().url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken });
  return (owner.json as ShareInfo).downloads;
}

describe('download limit', () => {
  it('grants exactly maxDownloads tickets to 10 concurrent requests', async () => {
    const share = await createTestShare(ferry().url, [{ size: 64 }], { maxDownloads: 2 });
    await uploadAndComplete(ferry().url, share, [randomBytes(64)]);
    const answers = await Promise.all(Array.from({ length: 10 }, () => ticketFor(ferry().url, share, [0])));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(2);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused.every((a) => a.status === 410 && errorCode(a) === 'DOWNLOAD_LIMIT_REACHED')).toBe(true);
  });

  it('holds the place of a cut-off download, counts it when it lapses, frees an unused ticket', async () => {
    // Larger than loopback socket buffers, so a dropped connection cannot have taken it all.
    const bytes = randomBytes(48 * 1024 * 1024);
    const share = await createTestShare(ferry().url, [{ size: bytes.length }], { maxDownloads: 2 });
    await uploadAndComplete(ferry().url, share, [bytes]);

    const cut = (await ticketFor(ferry().url, share, [0])).json as { ticket: string };
    await cutOffDownload(share, cut.ticket);
    await new Promise((r) => setTimeout(r, 100));
    expect(await downloads(share)).toBe(0);
    const unused = await ticketFor(ferry().url, share, [0]);
    expect(unused.status).toBe(201);
    // The open tickets hold both places...
    expect(errorCode(await ticketFor(ferry().url, share, [0]))).toBe('DOWNLOAD_LIMIT_REACHED');
    // ...until they lapse after 10 idle minutes: the one that sent bytes counts, the other frees its place.
    ferry().clock.advance(11 * 60 * 1000);
    await ferry().sweeper.sweep();
    expect(await downloads(share)).toBe(1);
    expect((await fetchFile(ferry().url, share, 0, cut.ticket, 'bytes=0-0')).status).toBe(401);

    const last = await ticketFor(ferry().url, share, [0]);
    expect(last.status).toBe(201);
    const got = await fetchFile(ferry().url, share, 0, (last.json as { ticket: string }).ticket);
    expect(got.bytes.equals(bytes)).toBe(true);
    expect(await downloads(share)).toBe(2);

    for (const path of ['', '/manifest']) {
      const gone = await api(ferry().url, 'GET', `/api/shares/${share.id}${path}`, { token: share.readerToken });
      expect([gone.status, errorCode(gone)]).toEqual([410, 'DOWNLOAD_LIMIT_REACHED']);
    }
    expect(errorCode(await ticketFor(ferry().url, share, [0]))).toBe('DOWNLOAD_LIMIT_REACHED');
  });

  it('cannot be bypassed by letting partly used tickets lapse', async () => {
    const bytes = randomBytes(1000);
    const share = await createTestShare(ferry().url, [{ size: bytes.length }], { maxDownloads: 1 });
    await uploadAndComplete(ferry().url, share, [bytes]);
    const first = (await ticketFor(ferry().url, share, [0])).json as { ticket: string };
    expect((await fetchFile(ferry().url, share, 0, first.ticket, 'bytes=0-998')).status).toBe(206);
    await settle();
    ferry().clock.advance(10 * 60 * 1000 + 1);
    // No sweep in between: granting lapses the idle ticket itself, and it counts.
    const second = await ticketFor(ferry().url, share, [0]);
    expect([second.status, errorCode(second)]).toEqual([410, 'DOWNLOAD_LIMIT_REACHED']);
    expect(await downloads(share)).toBe(1);
  });

  it('frees the place of a ticket that lapses without sending anything', async () => {
    const share = await createTestShare(ferry().url, [{ size: 64 }], { maxDownloads: 1 });
    await uploadAndComplete(ferry().url, share, [randomBytes(64)]);
    const first = (await ticketFor(ferry().url, share, [0])).json as { ticket: string };
    expect((await fetchFile(ferry().url, share, 0, first.ticket, 'bytes=64-')).status).toBe(416);
    ferry().clock.advance(10 * 60 * 1000 + 1);
    expect((await ticketFor(ferry().url, share, [0])).status).toBe(201);
    expect(await downloads(share)).toBe(0);
  });

  it('never hands out a place twice when a grant races a GET at the idle boundary', async () => {
    const share = await createTestShare(ferry().url, [{ size: 64 }], { maxDownloads: 1 });
    await uploadAndComplete(ferry().url, share, [randomBytes(64)]);
    const first = (await ticketFor(ferry().url, share, [0])).json as { ticket: string };
    // Exactly at the boundary: the ticket is still usable when the GET looks at it...
    ferry().clock.advance(10 * 60 * 1000);
    const getTicket = ferry().shares.getTicket.bind(ferry().shares);
    let second: Awaited<ReturnType<typeof ticketFor>> | undefined;
    ferry().shares.getTicket = async (hash) => {
      const ticket = await getTicket(hash);
      // ...and a millisecond later, while the GET is between its check and its use, a grant
      // finds it idle and gives its place to someone else.
      ferry().clock.advance(1);
      second = await ticketFor(ferry().url, share, [0]);
      return ticket;
    };
    let got: Awaited<ReturnType<typeof fetchFile>>;
    try {
      got = await fetchFile(ferry().url, share, 0, first.ticket);
    } finally {
      ferry().shares.getTicket = getTicket;
    }
    expect(second?.status).toBe(201);
    expect(got.status).toBe(401);
  });

  it('serves nothing before the upload exists, and refuses tickets for unknown files', async () => {
    const share = await createTestShare(ferry().url, [{ size: 32 }]);
    // A ticket is granted while the sender uploads (download while uploading), but no
    // ciphertext exists yet to send.
    const early = await ticketFor(ferry().url, share, [0]);
    expect(early.status).toBe(201);
    const none = await fetchFile(ferry().url, share, 0, (early.json as { ticket: string }).ticket);
    expect(none.status).toBe(425);
    await uploadAndComplete(ferry().url, share, [randomBytes(32)]);
    const unknown = await ticketFor(ferry().url, share, [3]);
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'FILE_NOT_FOUND']);
    const noReader = await api(ferry().url, 'POST', `/api/shares/${share.id}/downloads`, { body: { files: [0] } });
    expect([noReader.status, errorCode(noReader)]).toEqual([401, 'UNAUTHORIZED']);
    const { ticket } = (await ticketFor(ferry().url, share, [0])).json as { ticket: string };
    const noTicket = await fetchFile(ferry().url, share, 0, 'x'.repeat(43));
    expect(noTicket.status).toBe(401);
    expect((await fetchFile(ferry().url, share, 0, ticket)).status).toBe(200);
  });
  it('records what a running response has sent, so a server killed mid-download still knows it', async () => {
    const bytes = randomBytes(48 * 1024 * 1024);
    const share = await createTestShare(ferry().url, [{ size: bytes.length }], { maxDownloads: 1 });
    await uploadAndComplete(ferry().url, share, [bytes]);
    const { ticket } = (await ticketFor(ferry().url, share, [0])).json as { ticket: string };
    // A reader that takes the first chunks and then stops reading, keeping the response open.
    const req = http.get(`${ferry().url}/api/shares/${share.id}/files/0`, {
      headers: { Authorization: `Bearer ${share.readerToken}`, 'Ferry-Ticket': ticket },
    });
    req.on('error', () => undefined);
    await new Promise<void>((resolve) =>
      req.on('response', (res) =>
        res.once('data', () => {
          res.pause();
          resolve();
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 2500));
    const covered = await ferry().shares.coverage(await tokenHash(ticket), 0);
    req.destroy();
    expect(covered).toHaveLength(1);
    expect(covered[0]?.[0]).toBe(0);
    expect(covered[0]?.[1]).toBeGreaterThan(0);
    expect(covered[0]?.[1]).toBeLessThan(bytes.length);
  });
});
