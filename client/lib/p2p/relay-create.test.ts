import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CreateShareRequest, createShareRequestSchema } from '../../../shared/api.ts';
import { FerryError } from '../../../shared/errors.ts';
import { deriveShareKeys, newSecret, relayShareId, tokenHash } from '../../../shared/keys.ts';
import { encryptedSize, type FileCipher } from '../../../shared/records.ts';
import { createRelayShare } from './relay-upload.ts';

const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
const files: FileCipher[] = [{ name: 'a.bin', size: 5000, recordSize: 1024, key, nonceBase: new Uint8Array(12) }];
const errorBody = (code: string) => JSON.stringify({ error: { code, message: code } });

/**
 * A server behind a stubbed fetch that keeps shares by id as POST /api/shares does: a
 * repeat with the same token hashes is the same share (200), other hashes 409. `drop`
 * decides per request whether the answer is lost after the share was stored.
 */
function flakyServer(drop: (attempt: number) => boolean): { bodies: CreateShareRequest[] } {
  const stored = new Map<string, CreateShareRequest>();
  const bodies: CreateShareRequest[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    expect(`${init.method} ${url}`).toBe('POST /api/shares');
    const body = createShareRequestSchema.parse(JSON.parse(String(init.body)));
    bodies.push(body);
    const earlier = body.id === undefined ? undefined : stored.get(body.id);
    if (earlier && (earlier.ownerHash !== body.ownerHash || earlier.uploadHash !== body.uploadHash)) {
      return new Response(errorBody('SHARE_ID_TAKEN'), { status: 409 });
    }
    if (body.id) stored.set(body.id, body);
    if (drop(bodies.length)) throw new TypeError('Failed to fetch');
    const answer = { id: body.id, expiresAt: 1, files: [{ index: 0, size: 5080, uploaded: 0, sealed: false }] };
    return new Response(JSON.stringify(answer), { status: earlier ? 200 : 201 });
  });
  return { bodies };
}

describe('createRelayShare', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('asks again with the same body when the answer was lost, and keeps the tokens it made', async () => {
    const server = flakyServer((attempt) => attempt === 1);
    const secret = newSecret();
    const share = await createRelayShare(secret, 'sealed', files, [0]);

    expect(server.bodies).toHaveLength(2);
    expect(server.bodies[1]).toEqual(server.bodies[0]);
    const [body] = server.bodies;
    expect(share.id).toBe(await relayShareId(secret));
    expect(body).toMatchObject({
      id: share.id,
      readerHash: await tokenHash((await deriveShareKeys(secret)).readerToken),
      ownerHash: await tokenHash(share.ownerToken),
      uploadHash: await tokenHash(share.uploadToken),
      files: [{ size: encryptedSize(files[0]!) }],
    });
    expect(share.ownerToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(share.uploadToken).not.toBe(share.ownerToken);
    // Random, not derived from the secret: the recipient, which has the secret, cannot own it.
    const again = await createRelayShare(newSecret(), 'sealed', files, [0]);
    expect(again.ownerToken).not.toBe(share.ownerToken);
  });

  it('gives up after its pauses when every answer is lost', async () => {
    const server = flakyServer(() => true);
    const failed = await createRelayShare(newSecret(), 'sealed', files, [0, 0]).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(FerryError);
    expect((failed as FerryError).code).toBe('NETWORK_ERROR');
    expect(server.bodies).toHaveLength(3);
  });

  it('says the transfer was handed over already when the id holds another share, without asking again', async () => {
    const server = flakyServer(() => false);
    const secret = newSecret();
    await createRelayShare(secret, 'sealed', files, [0]);
    const failed = await createRelayShare(secret, 'sealed', files, [0]).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(FerryError);
    expect((failed as FerryError).code).toBe('SHARE_ID_TAKEN');
    expect((failed as FerryError).message).toBe('This transfer was already handed to the server once.');
    expect(server.bodies).toHaveLength(2);
  });

  it('does not ask again after an answer that will not change', async () => {
    const bodies: unknown[] = [];
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit = {}) => {
      bodies.push(init.body);
      return new Response(errorBody('TOO_LARGE'), { status: 413 });
    });
    const failed = await createRelayShare(newSecret(), 'sealed', files, [0, 0]).catch((error: unknown) => error);
    expect((failed as FerryError).code).toBe('TOO_LARGE');
    expect(bodies).toHaveLength(1);
  });
});
