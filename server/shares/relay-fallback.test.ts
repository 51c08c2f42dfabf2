/**
 * What a peer transfer's relay fallback needs from the server: a share at an id the client
 * proposes, a tus upload that starts at a record-aligned ciphertext offset, and Range reads
 * that start at or past that offset (below it: 416 RANGE_NOT_STORED).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CreatedShare, ShareOwnerView } from '../../shared/api.ts';
import { tokenHash } from '../../shared/keys.ts';
import {
  api,
  BLOB_BACKENDS,
  createTestShare,
  errorCode,
  FAKE_MANIFEST,
  fetchFile,
  serverForFile,
  type TestShare,
  ticketFor,
  tusPatch,
  tusUpload,
} from '../test-support.ts';

describe.each(BLOB_BACKENDS)('ciphertext in %s', (blobs) => {
  const ferry = serverForFile({}, blobs);

  const RECORD = 1024;
  /** Ten records of 1024 plaintext bytes, 16-byte tags: 1040 ciphertext bytes each. */
  const SIZE = 10 * (RECORD + 16);
  const BASE = 3 * (RECORD + 16);
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const newId = () => randomBytes(12).toString('base64url');

  function createUpload(share: TestShare, length: number, metadata: Record<string, string>): Promise<Response> {
    return fetch(`${ferry().url}/files/`, {
      method: 'POST',
      headers: {
        'Tus-Resumable': '1.0.0',
        Authorization: `Bearer ${share.uploadToken}`,
        'Upload-Length': String(length),
        'Upload-Metadata': Object.entries(metadata)
          .map(([key, value]) => `${key} ${b64(value)}`)
          .join(','),
      },
    });
  }

  const patch = (share: TestShare, location: string, offset: number, bytes: Buffer) =>
    tusPatch(ferry().url, share, location, offset, bytes);

  async function codeOf(res: Response): Promise<string | undefined> {
    return ((await res.json()) as { error?: { code?: string } }).error?.code;
  }

  describe('a proposed share id', () => {
    it('is taken as given, refused with 409 SHARE_ID_TAKEN when in use, and 400 when malformed', async () => {
      const id = newId();
      const share = await createTestShare(ferry().url, [{ size: SIZE }], { id });
      expect(share.id).toBe(id);
      await expect(createTestShare(ferry().url, [{ size: SIZE }], { id })).rejects.toThrow(/409.*SHARE_ID_TAKEN/);
      await expect(createTestShare(ferry().url, [{ size: SIZE }], { id: 'short' })).rejects.toThrow(
        /400.*INVALID_BODY/,
      );
    });
  });

  describe('a proposed share id with tokens the client made', () => {
    const token = () => randomBytes(32).toString('base64url');

    /** What a relay fallback sends: its id, and hashes of the reader, owner and upload tokens it holds. */
    async function ownTokenShare() {
      const tokens = { readerToken: token(), ownerToken: token(), uploadToken: token() };
      const body = {
        id: newId(),
        readerHash: await tokenHash(tokens.readerToken),
        ownerHash: await tokenHash(tokens.ownerToken),
        uploadHash: await tokenHash(tokens.uploadToken),
        expiresInSeconds: 3600,
        maxDownloads: null,
        password: null,
        manifest: FAKE_MANIFEST,
        files: [{ size: SIZE }],
      };
      return { body, tokens, share: { id: body.id, ...tokens } };
    }
    const post = (body: unknown) => api(ferry().url, 'POST', '/api/shares', { body });

    it('answers the same body again with the same share, whose tokens work; another body at the id is 409', async () => {
      const { body, share } = await ownTokenShare();
      const first = await post(body);
      expect(first.status).toBe(201);
      expect(first.json).toEqual({
        id: body.id,
        expiresAt: expect.any(Number),
        files: [{ index: 0, size: SIZE, uploaded: 0, sealed: false }],
      });
      // The answer was lost; the client sends the very same body.
      const repeat = await post(body);
      expect(repeat.status).toBe(200);
      expect(repeat.json).toEqual(first.json);

      const owner = await api(ferry().url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken });
      expect(owner.status).toBe(200);
      await tusUpload(ferry().url, share, 0, randomBytes(SIZE)).promise;
      const complete = await api(ferry().url, 'PATCH', `/api/shares/${share.id}`, {
        token: share.ownerToken,
        body: { complete: true },
      });
      expect(complete.status).toBe(200);
      const ticket = await api(ferry().url, 'POST', `/api/shares/${share.id}/downloads`, {
        token: share.readerToken,
        body: { files: [0] },
      });
      expect(ticket.status).toBe(201);
      // A repeat after that still gets the share, as it now stands.
      const later = await post(body);
      expect(later.status).toBe(200);
      expect((later.json as CreatedShare).files[0]).toMatchObject({ uploaded: SIZE, sealed: true });

      const other = await ownTokenShare();
      for (const taken of [
        { ...other.body, id: body.id },
        { ...body, ownerHash: other.body.ownerHash },
        { ...body, uploadHash: other.body.uploadHash },
        { ...body, readerHash: other.body.readerHash },
        { ...body, files: [{ size: SIZE + 1 }] },
        { ...body, files: [{ size: SIZE }, { size: SIZE }] },
        { ...body, maxDownloads: 5 },
        { ...body, ownerHash: undefined, uploadHash: undefined },
      ]) {
        const answer = await post(taken);
        expect(answer.status).toBe(409);
        expect(errorCode(answer)).toBe('SHARE_ID_TAKEN');
      }
      // Nothing of the share changed: the owner token still works, the other one does not.
      expect((await api(ferry().url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken })).status).toBe(
        200,
      );
      const stranger = await api(ferry().url, 'GET', `/api/shares/${share.id}/owner`, {
        token: other.tokens.ownerToken,
      });
      expect(stranger.status).toBe(401);

      // Once revoked, the id is taken for good, even for the same body.
      expect((await api(ferry().url, 'DELETE', `/api/shares/${share.id}`, { token: share.ownerToken })).status).toBe(
        204,
      );
      expect(errorCode(await post(body))).toBe('SHARE_ID_TAKEN');
    });

    it('refuses hashes without an id, one without the other, equal hashes and malformed ones', async () => {
      const { body } = await ownTokenShare();
      const { id: _, ...linkShare } = body;
      for (const refused of [
        linkShare,
        { ...body, uploadHash: undefined },
        { ...body, ownerHash: undefined },
        { ...body, ownerHash: body.readerHash },
        { ...body, uploadHash: body.ownerHash },
        { ...body, ownerHash: body.ownerHash.toUpperCase() },
        { ...body, uploadHash: 'ab' },
      ]) {
        const answer = await post(refused);
        expect(answer.status).toBe(400);
        expect(errorCode(answer)).toBe('INVALID_BODY');
      }
      expect((await post(body)).status).toBe(201);
    });
  });

  describe('an upload that starts mid-file', () => {
    it('refuses a base that is not record-aligned, outside the file, alone, or of the wrong length', async () => {
      const share = await createTestShare(ferry().url, [{ size: SIZE }]);
      const meta = (base: number, recordSize = RECORD) => ({
        share: share.id,
        index: '0',
        base: String(base),
        recordSize: String(recordSize),
      });
      const refused = [
        await createUpload(share, SIZE - 1000, meta(1000)),
        await createUpload(share, SIZE, meta(0)),
        await createUpload(share, 0, meta(SIZE)),
        await createUpload(share, SIZE - BASE, meta(BASE, 100)),
        await createUpload(share, SIZE - BASE, meta(BASE, 1000)),
        await createUpload(share, SIZE - BASE, { share: share.id, index: '0', base: String(BASE) }),
        await createUpload(share, SIZE - BASE, { ...meta(BASE), base: '-1040' }),
      ];
      for (const res of refused) {
        expect(res.status).toBe(400);
        expect(await codeOf(res)).toBe('INVALID_METADATA');
      }
      const wrongLength = await createUpload(share, SIZE, meta(BASE));
      expect(wrongLength.status).toBe(409);
      expect(await codeOf(wrongLength)).toBe('LENGTH_MISMATCH');
    });

    it('stores only the bytes past the base, serves Range reads from it on, and refuses below it', async () => {
      const cipher = randomBytes(SIZE);
      const share = await createTestShare(ferry().url, [{ size: SIZE }], { id: newId() });
      const created = await createUpload(share, SIZE - BASE, {
        share: share.id,
        index: '0',
        base: String(BASE),
        recordSize: String(RECORD),
      });
      expect(created.status).toBe(201);
      const location = created.headers.get('location')!;
      const head = await fetch(new URL(location, ferry().url), {
        method: 'HEAD',
        headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${share.uploadToken}` },
      });
      expect(head.headers.get('upload-metadata')).toContain(`base ${b64(String(BASE))}`);

      const ticket = (await ticketFor(ferry().url, share, [0])).json as { ticket: string };
      expect((await fetchFile(ferry().url, share, 0, ticket.ticket, `bytes=${BASE}-`)).status).toBe(425);

      // Half of what is left, then read while it grows.
      const half = BASE + 3 * (RECORD + 16);
      expect((await patch(share, location, 0, cipher.subarray(BASE, half))).status).toBe(204);
      const owner = await api(ferry().url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken });
      expect((owner.json as ShareOwnerView).files[0]).toMatchObject({ size: SIZE, uploaded: half, sealed: false });
      const growing = await fetchFile(ferry().url, share, 0, ticket.ticket, `bytes=${BASE}-`);
      expect(growing.status).toBe(206);
      expect(growing.headers.get('content-range')).toBe(`bytes ${BASE}-${half - 1}/*`);
      expect(growing.bytes.equals(cipher.subarray(BASE, half))).toBe(true);

      expect((await patch(share, location, half - BASE, cipher.subarray(half))).status).toBe(204);
      const tail = await fetchFile(ferry().url, share, 0, ticket.ticket, `bytes=${half}-`);
      expect(tail.status).toBe(206);
      expect(tail.headers.get('content-range')).toBe(`bytes ${half}-${SIZE - 1}/${SIZE}`);
      expect(tail.bytes.equals(cipher.subarray(half))).toBe(true);

      // Everything from the base on was read: the ticket completes (the bytes before it count as had).
      const info = await api(ferry().url, 'GET', `/api/shares/${share.id}`);
      expect((info.json as { downloads: number }).downloads).toBe(1);

      for (const range of [undefined, 'bytes=0-', `bytes=${BASE - 1}-`, `bytes=-${SIZE}`]) {
        const below = await fetchFile(ferry().url, share, 0, ticket.ticket, range);
        expect(below.status).toBe(416);
        expect(below.headers.get('content-range')).toBe(`bytes */${SIZE}`);
        expect(JSON.parse(below.bytes.toString()).error.code).toBe('RANGE_NOT_STORED');
      }

      // Sealed, it has a blob token, but it is not a whole file to reuse.
      const view = (await api(ferry().url, 'GET', `/api/shares/${share.id}/owner`, { token: share.ownerToken }))
        .json as ShareOwnerView;
      const slot = view.files[0]!;
      expect(slot.sealed).toBe(true);
      const reuse = await api(ferry().url, 'POST', '/api/shares', {
        body: {
          readerHash: 'a'.repeat(64),
          expiresInSeconds: 3600,
          maxDownloads: null,
          password: null,
          manifest: 'abc',
          files: [{ reuse: { blobId: slot.blobId, blobToken: slot.blobToken } }],
        },
      });
      expect(reuse.status).toBe(403);
      expect(errorCode(reuse)).toBe('FORBIDDEN');
    });
  });
});
