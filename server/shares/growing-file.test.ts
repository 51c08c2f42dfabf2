/**
 * Download while uploading: a file whose tus upload is still running is served as far as
 * it is stored (206, `Content-Range: bytes a-b/*`), never beyond, and the ticket still
 * counts exactly one download once every byte of the final size was sent.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ShareInfo } from '../../shared/api.ts';
import {
  api,
  BLOB_BACKENDS,
  createTestShare,
  errorCode,
  fetchFile,
  serverForFile,
  type TestShare,
  ticketFor,
  tusPatch,
} from '../test-support.ts';

describe.each(BLOB_BACKENDS)('ciphertext in %s', (blobs) => {
  const ferry = serverForFile({}, blobs);

  /** Creates the tus upload of file 0; answers its path (/files/<id>). */
  async function createUpload(share: TestShare, size: number): Promise<string> {
    const meta = `share ${Buffer.from(share.id).toString('base64')},index ${Buffer.from('0').toString('base64')}`;
    const res = await fetch(`${ferry().url}/files/`, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        Authorization: `Bearer ${share.uploadToken}`,
        'Upload-Length': String(size),
        'Upload-Metadata': meta,
      },
    });
    expect(res.status).toBe(201);
    return res.headers.get('location') ?? '';
  }

  async function patch(share: TestShare, location: string, offset: number, bytes: Buffer): Promise<void> {
    expect((await tusPatch(ferry().url, share, location, offset, bytes)).status).toBe(204);
  }

  async function downloads(share: TestShare): Promise<number> {
    const owner = await api(ferry().url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken });
    return (owner.json as ShareInfo).downloads;
  }

  const settle = () => new Promise((r) => setTimeout(r, 50));

  describe('download while uploading', () => {
    it('serves the stored prefix, 425 past it, and counts one download across the pieces', async () => {
      const bytes = randomBytes(300_000);
      const half = 123_457;
      const share = await createTestShare(ferry().url, [{ size: bytes.length }], { maxDownloads: 1 });
      const { ticket } = (await ticketFor(ferry().url, share, [0])).json as { ticket: string };

      const location = await createUpload(share, bytes.length);
      const empty = await fetchFile(ferry().url, share, 0, ticket);
      expect([empty.status, JSON.parse(empty.bytes.toString()).error.code]).toEqual([425, 'FILE_NOT_READY']);

      await patch(share, location, 0, bytes.subarray(0, half));
      // No Range: still only what is stored, as a 206 with an unknown total.
      const first = await fetchFile(ferry().url, share, 0, ticket);
      expect(first.status).toBe(206);
      expect(first.headers.get('content-range')).toBe(`bytes 0-${half - 1}/*`);
      expect(first.bytes.equals(bytes.subarray(0, half))).toBe(true);
      // A start past the stored bytes (but inside the file) is "not yet", not 416.
      expect((await fetchFile(ferry().url, share, 0, ticket, `bytes=${half}-`)).status).toBe(425);
      // A range that ends inside the stored bytes is served as asked.
      const inner = await fetchFile(ferry().url, share, 0, ticket, 'bytes=10-19');
      expect([inner.status, inner.headers.get('content-range')]).toEqual([206, 'bytes 10-19/*']);
      // Past the declared size stays 416.
      expect((await fetchFile(ferry().url, share, 0, ticket, `bytes=${bytes.length}-`)).status).toBe(416);
      await settle();
      expect(await downloads(share)).toBe(0);

      await patch(share, location, half, bytes.subarray(half));
      // Sealed now: the rest with its final total, and the ticket completes.
      const rest = await fetchFile(ferry().url, share, 0, ticket, `bytes=${half - 100}-`);
      expect(rest.status).toBe(206);
      expect(rest.headers.get('content-range')).toBe(`bytes ${half - 100}-${bytes.length - 1}/${bytes.length}`);
      expect(rest.bytes.equals(bytes.subarray(half - 100))).toBe(true);
      await settle();
      expect(await downloads(share)).toBe(1);
      // Still uploading (not completed by the owner), yet the limit holds.
      const again = await ticketFor(ferry().url, share, [0]);
      expect([again.status, errorCode(again)]).toEqual([410, 'DOWNLOAD_LIMIT_REACHED']);
    });

    it('answers HEAD on a growing file and keeps the ticket alive while the recipient waits', async () => {
      const share = await createTestShare(ferry().url, [{ size: 5000 }]);
      const { ticket } = (await ticketFor(ferry().url, share, [0])).json as { ticket: string };
      const location = await createUpload(share, 5000);
      await patch(share, location, 0, randomBytes(1000));
      const head = await fetch(`${ferry().url}/api/shares/${share.id}/files/0`, {
        method: 'HEAD',
        headers: { Authorization: `Bearer ${share.readerToken}`, 'Ferry-Ticket': ticket },
      });
      expect([head.status, head.headers.get('content-range')]).toEqual([206, 'bytes 0-999/*']);
      // Polls that find nothing new renew the ticket: 9 minutes apart, twice, it is still usable.
      for (let i = 0; i < 2; i++) {
        ferry().clock.advance(9 * 60 * 1000);
        expect((await fetchFile(ferry().url, share, 0, ticket, 'bytes=1000-')).status).toBe(425);
      }
      expect((await fetchFile(ferry().url, share, 0, ticket, 'bytes=0-')).status).toBe(206);
    });
  });
});
