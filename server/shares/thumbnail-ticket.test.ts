/** Thumbnail tickets over HTTP: refused on limited shares, bounded to a file's first records, never counted. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ShareInfo } from '../../shared/api.ts';
import { THUMBNAIL_CIPHER_BYTES } from '../../shared/limits.ts';
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

const thumbnailTicket = (share: TestShare) =>
  api(ferry().url, 'POST', `/api/shares/${share.id}/downloads`, {
    token: share.readerToken,
    body: { files: [0, 1], purpose: 'thumbnail' },
  });

async function downloads(share: TestShare): Promise<number> {
  const owner = await api(ferry().url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken });
  return (owner.json as ShareInfo).downloads;
}

const codeOfBody = (bytes: Buffer) => (JSON.parse(bytes.toString('utf8')) as { error: { code: string } }).error.code;

describe('thumbnail tickets', () => {
  it('are refused with THUMBNAILS_NOT_OFFERED on a share with a download limit', async () => {
    const share = await createTestShare(ferry().url, [{ size: 64 }, { size: 64 }], { maxDownloads: 1 });
    await uploadAndComplete(ferry().url, share, [randomBytes(64), randomBytes(64)]);
    const answer = await thumbnailTicket(share);
    expect(answer.status).toBe(403);
    expect(errorCode(answer)).toBe('THUMBNAILS_NOT_OFFERED');
    // The one counted place is still free for a real download.
    expect((await ticketFor(ferry().url, share, [0, 1])).status).toBe(201);
  });

  it('rejects an unknown purpose as a bad request', async () => {
    const share = await createTestShare(ferry().url, [{ size: 64 }]);
    const answer = await api(ferry().url, 'POST', `/api/shares/${share.id}/downloads`, {
      token: share.readerToken,
      body: { files: [0], purpose: 'peek' },
    });
    expect(answer.status).toBe(400);
  });

  it('read only the first records, and a visit that only read thumbnails never counts', async () => {
    const small = randomBytes(1000);
    const large = randomBytes(THUMBNAIL_CIPHER_BYTES + 5000);
    const share = await createTestShare(ferry().url, [{ size: small.length }, { size: large.length }]);
    await uploadAndComplete(ferry().url, share, [small, large]);
    const granted = await thumbnailTicket(share);
    expect(granted.status).toBe(201);
    const { ticket } = granted.json as { ticket: string };

    const whole = await fetchFile(ferry().url, share, 0, ticket);
    expect(whole.status).toBe(200);
    expect(whole.bytes.equals(small)).toBe(true);
    const head = await fetchFile(ferry().url, share, 1, ticket, `bytes=0-${THUMBNAIL_CIPHER_BYTES - 1}`);
    expect(head.status).toBe(206);
    expect(head.bytes.equals(large.subarray(0, THUMBNAIL_CIPHER_BYTES))).toBe(true);

    const past = await fetchFile(ferry().url, share, 1, ticket, `bytes=0-${THUMBNAIL_CIPHER_BYTES}`);
    expect(past.status).toBe(416);
    expect(codeOfBody(past.bytes)).toBe('THUMBNAIL_RANGE_EXCEEDED');
    const full = await fetchFile(ferry().url, share, 1, ticket);
    expect(full.status).toBe(416);
    expect(codeOfBody(full.bytes)).toBe('THUMBNAIL_RANGE_EXCEEDED');

    await new Promise((r) => setTimeout(r, 50));
    expect(await downloads(share)).toBe(0);
    // The ticket lapses after 10 idle minutes having sent ciphertext: still no download.
    ferry().clock.advance(11 * 60 * 1000);
    await ferry().sweeper.sweep();
    expect(await downloads(share)).toBe(0);
    expect((await fetchFile(ferry().url, share, 0, ticket, 'bytes=0-0')).status).toBe(401);

    // A real download after that counts once.
    const real = (await ticketFor(ferry().url, share, [0, 1])).json as { ticket: string };
    expect((await fetchFile(ferry().url, share, 0, real.ticket)).bytes.equals(small)).toBe(true);
    expect((await fetchFile(ferry().url, share, 1, real.ticket)).bytes.equals(large)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(await downloads(share)).toBe(1);
  });
});
