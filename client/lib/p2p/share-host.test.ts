import { describe, expect, it } from 'vitest';
import { toBase64Url } from '../../../shared/encoding.ts';
import { deriveShareKeys, newSecret } from '../../../shared/keys.ts';
import { fileCipher } from '../../../shared/manifest.ts';
import type { SentFile, ShareRecord } from '../store/db.ts';
import { manifestOf } from '../transfer/send/share-plan.ts';
import { hostedShareOf } from './share-host.svelte.ts';

const secret = newSecret();
const sent = (name: string, size: number): SentFile => ({
  name,
  size,
  type: 'application/octet-stream',
  lastModified: 0,
  nonce: toBase64Url(crypto.getRandomValues(new Uint8Array(12))),
  recordSize: 65_536,
  blake3: 'ab'.repeat(32),
  checkpoint: null,
  uploadUrl: null,
  reused: false,
  uploaded: true,
});
const files = [sent('a.bin', 10), sent('b.bin', 20)];
const record = (over: Partial<ShareRecord> = {}): ShareRecord => ({
  id: 'AAAAAAAAAAAAAAAA',
  ownerToken: 'O'.repeat(43),
  uploadToken: 'U'.repeat(43),
  secret: toBase64Url(secret),
  link: 'http://localhost/s/AAAAAAAAAAAAAAAA#x',
  createdAt: 0,
  expiresAt: Date.now() + 60_000,
  maxDownloads: 1,
  hasPassword: false,
  state: 'ready',
  files,
  ...over,
});
const held = new Map([
  [0, new File([new Uint8Array(10)], 'a.bin')],
  [1, new File([new Uint8Array(20)], 'b.bin')],
]);

describe('hostedShareOf', () => {
  it('serves each held file under the cipher the upload used', async () => {
    const share = await hostedShareOf(record(), held);
    const { contentKey } = await deriveShareKeys(secret);
    const expected = await fileCipher(manifestOf(files).files[1]!, contentKey);
    const cipher = share?.files.get(1)?.cipher;
    expect(share?.id).toBe('AAAAAAAAAAAAAAAA');
    expect([cipher?.name, cipher?.size, cipher?.recordSize]).toEqual(['b.bin', 20, 65_536]);
    expect(cipher?.nonceBase).toEqual(expected.nonceBase);
  });

  it('leaves out a held file whose size is not the one sent', async () => {
    const share = await hostedShareOf(record(), new Map([[0, new File([new Uint8Array(11)], 'a.bin')]]));
    expect(share?.files.size).toBe(0);
  });

  it.each([
    ['revoked', record({ state: 'revoked' }), held],
    ['still uploading', record({ state: 'uploading' }), held],
    ['expired', record({ expiresAt: Date.now() - 1 }), held],
    ['no files held', record(), undefined],
  ])('serves nothing when the share is %s', async (_, share, files) => {
    expect(await hostedShareOf(share, files)).toBeNull();
  });
});
