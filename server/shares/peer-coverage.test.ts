/** The owner's report of ciphertext its tab sent to a recipient counts like the server's own sending. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ShareInfo } from '../../shared/api.ts';
import { api, createTestShare, errorCode, serverForFile, type TestShare, ticketFor } from '../test-support.ts';

const ferry = serverForFile();

function report(share: TestShare, body: unknown, token = share.ownerToken) {
  return api(ferry().url, 'POST', `/api/shares/${share.id}/peer-coverage`, { token, body });
}

async function ticket(share: TestShare, files = [0]): Promise<string> {
  const answer = await ticketFor(ferry().url, share, files);
  expect(answer.status).toBe(201);
  return (answer.json as { ticket: string }).ticket;
}

async function downloads(share: TestShare): Promise<number> {
  const owner = await api(ferry().url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken });
  return (owner.json as ShareInfo).downloads;
}

describe('POST /api/shares/:id/peer-coverage', () => {
  it('counts a download once the reported pieces cover every file of the ticket, once', async () => {
    const share = await createTestShare(ferry().url, [{ size: 64 }, { size: 100 }], { maxDownloads: 1 });
    const t = await ticket(share, [0, 1]);
    expect((await report(share, { ticket: t, file: 0, start: 0, end: 0 })).json).toEqual({ ticket: 'open' });
    expect((await report(share, { ticket: t, file: 0, start: 0, end: 64 })).json).toEqual({ ticket: 'open' });
    expect((await report(share, { ticket: t, file: 1, start: 40, end: 100 })).json).toEqual({ ticket: 'open' });
    expect(await downloads(share)).toBe(0);
    expect((await report(share, { ticket: t, file: 1, start: 0, end: 40 })).json).toEqual({ ticket: 'done' });
    expect(await downloads(share)).toBe(1);
    // Reported again (a retry): still one download, and the limit holds for everyone else.
    expect((await report(share, { ticket: t, file: 1, start: 0, end: 100 })).json).toEqual({ ticket: 'done' });
    expect(await downloads(share)).toBe(1);
    expect(errorCode(await ticketFor(ferry().url, share, [0]))).toBe('DOWNLOAD_LIMIT_REACHED');
  });

  it('adds to what the server itself sent for the same ticket', async () => {
    const share = await createTestShare(ferry().url, [{ size: 64 }]);
    const t = await ticket(share);
    expect((await report(share, { ticket: t, file: 0, start: 0, end: 64 })).json).toEqual({ ticket: 'done' });
    expect(await downloads(share)).toBe(1);
  });

  it.each([
    ['start after end', { file: 0, start: 10, end: 5 }, 400, 'INVALID_BODY'],
    ['an unknown field', { file: 0, start: 0, end: 1, extra: 1 }, 400, 'INVALID_BODY'],
    ['a negative start', { file: 0, start: -1, end: 1 }, 400, 'INVALID_BODY'],
    ['a file the share lacks', { file: 5, start: 0, end: 1 }, 404, 'FILE_NOT_FOUND'],
    ['an end past the file', { file: 0, start: 0, end: 65 }, 416, 'INVALID_RANGE'],
    ['a file the ticket does not name', { file: 1, start: 0, end: 1 }, 403, 'FORBIDDEN'],
  ])('refuses %s', async (_, body, status, code) => {
    const share = await createTestShare(ferry().url, [{ size: 64 }, { size: 64 }], { maxDownloads: 3 });
    const answer = await report(share, { ticket: await ticket(share, [0]), ...body });
    expect([answer.status, errorCode(answer)]).toEqual([status, code]);
    expect(await downloads(share)).toBe(0);
  });

  it('refuses an unknown ticket, the reader token, and a revoked share', async () => {
    const share = await createTestShare(ferry().url, [{ size: 64 }], { maxDownloads: 3 });
    const t = await ticket(share);
    const unknown = await report(share, { ticket: randomBytes(32).toString('base64url'), file: 0, start: 0, end: 64 });
    expect([unknown.status, errorCode(unknown)]).toEqual([401, 'UNAUTHORIZED']);
    const reader = await report(share, { ticket: t, file: 0, start: 0, end: 64 }, share.readerToken);
    expect([reader.status, errorCode(reader)]).toEqual([401, 'UNAUTHORIZED']);
    expect((await api(ferry().url, 'DELETE', `/api/shares/${share.id}`, { token: share.ownerToken })).status).toBe(204);
    const revoked = await report(share, { ticket: t, file: 0, start: 0, end: 64 });
    expect([revoked.status, errorCode(revoked)]).toEqual([410, 'SHARE_REVOKED']);
  });
});
