/**
 * Every creation the app makes carries the upload key this browser keeps: a link send, a
 * request link, and the P2P relay fallback's share (a key-only server refuses it otherwise).
 * The key store is IndexedDB, absent in Node: it is replaced by a fixed key here.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UPLOAD_KEY_HEADER } from '../../../shared/access-api.ts';
import { newSecret } from '../../../shared/keys.ts';
import type { FileCipher } from '../../../shared/records.ts';
import { createShare } from '../api/share-client.ts';
import { createRelayShare } from '../p2p/relay-upload.ts';
import { createRequest } from '../requests/request-client.ts';

const KEY = `fk_${'k'.repeat(43)}`;
vi.mock('./upload-key-db.ts', () => ({ uploadKeyHeaders: async () => ({ 'Ferry-Upload-Key': KEY }) }));

/** Records each request's method, URL and upload key header, and answers a refusal. */
function recordingServer(): Array<{ call: string; key: string | null }> {
  const seen: Array<{ call: string; key: string | null }> = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    seen.push({ call: `${init.method} ${url}`, key: new Headers(init.headers).get(UPLOAD_KEY_HEADER) });
    const body = { error: { code: 'UPLOAD_KEY_INVALID', message: 'refused' } };
    return new Response(JSON.stringify(body), { status: 403 });
  });
  return seen;
}

describe('the upload key header', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('goes with a link share, a request link and a relay fallback share', async () => {
    const seen = recordingServer();
    const share = {
      readerHash: '0'.repeat(64),
      expiresInSeconds: 3600,
      maxDownloads: null,
      password: null,
      manifest: 'm',
      files: [{ size: 100 }],
    };
    await expect(createShare(share)).rejects.toMatchObject({ code: 'UPLOAD_KEY_INVALID' });
    await expect(createRequest({ maxBytes: 10_000, maxFiles: 1, expiresInSeconds: 3600 })).rejects.toMatchObject({
      code: 'UPLOAD_KEY_INVALID',
    });
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
    const files: FileCipher[] = [{ name: 'a', size: 10, recordSize: 1024, key, nonceBase: new Uint8Array(12) }];
    await expect(createRelayShare(newSecret(), 'sealed', files, [])).rejects.toMatchObject({
      code: 'UPLOAD_KEY_INVALID',
    });
    expect(seen).toEqual([
      { call: 'POST /api/shares', key: KEY },
      { call: 'POST /api/requests', key: KEY },
      { call: 'POST /api/shares', key: KEY },
    ]);
  });
});
