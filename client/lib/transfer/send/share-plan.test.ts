import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import type { DedupEntry, SentFile } from '../../store/db.ts';
import { isStaleReuse, planShare, requireHashes, withFullHashes, withoutReuse } from './share-plan.ts';

const H = (c: string) => c.repeat(64);
const file = (name: string, patch: Partial<SentFile> = {}): SentFile => ({
  name,
  size: 100,
  type: '',
  lastModified: 0,
  nonce: 'n',
  recordSize: 1024,
  blake3: null,
  checkpoint: null,
  uploadUrl: null,
  reused: false,
  uploaded: true,
  ...patch,
});

describe('withFullHashes', () => {
  it('takes a missing hash from the checkpoint at the end of the file', () => {
    const files = [
      file('known', { blake3: H('a') }),
      file('full checkpoint', { checkpoint: { offset: 100, digest: H('b') } }),
      file('partial checkpoint', { checkpoint: { offset: 50, digest: H('c') } }),
      file('nothing'),
    ];
    const { files: filled, missing } = withFullHashes(files);
    expect(filled.map((f) => f.blake3)).toEqual([H('a'), H('b'), null, null]);
    expect(missing).toEqual([2, 3]);
    expect(files[1]?.blake3).toBeNull(); // the input is not changed
  });
});

describe('requireHashes', () => {
  it('lets a share with every hash through', () => {
    expect(() => requireHashes([file('a', { blake3: H('a') })])).not.toThrow();
  });
  it('refuses to complete a share while any hash is null, naming the files', () => {
    const files = [file('a', { blake3: H('a') }), file('b.txt'), file('c.txt')];
    expect(() => requireHashes(files)).toThrow(FerryError);
    expect(() => requireHashes(files)).toThrow(/b\.txt, c\.txt/);
  });
});

describe('a stale dedup entry', () => {
  const reuse: DedupEntry = {
    blake3: H('d'),
    fingerprint: 'f',
    blobId: 'blob',
    blobToken: 't'.repeat(43),
    key: 'A'.repeat(43),
    nonce: 'AAAAAAAAAAAAAAAA',
    recordSize: 1024,
    size: 3,
    expiresAt: Number.MAX_SAFE_INTEGER,
    shareId: 'old',
  };
  const planned = [
    { file: new File(['abc'], 'a.txt'), name: 'a.txt', reuse },
    { file: new File(['xyz!'], 'b.txt'), name: 'b.txt' },
  ];

  it('is recognised by FORBIDDEN to a creation that reuses blobs, and only then', () => {
    expect(isStaleReuse(new FerryError('FORBIDDEN', 'gone'), planned)).toBe(true);
    expect(isStaleReuse(new FerryError('FORBIDDEN', 'gone'), withoutReuse(planned))).toBe(false);
    expect(isStaleReuse(new FerryError('RATE_LIMITED', 'slow down'), planned)).toBe(false);
    expect(isStaleReuse(new Error('FORBIDDEN'), planned)).toBe(false);
  });

  it('is replaced by a normal upload of the file', async () => {
    const settings = { expiresInSeconds: 3600, maxDownloads: null, password: '' };
    const before = await planShare(planned, settings);
    expect(before.request.files[0]).toEqual({ reuse: { blobId: 'blob', blobToken: reuse.blobToken } });
    const after = await planShare(withoutReuse(planned), settings);
    expect(after.request.files).toEqual([{ size: 3 + 16 }, { size: 4 + 16 }]);
    expect(after.files[0]).toMatchObject({ reused: false, uploaded: false, blake3: null, key: undefined });
    expect(after.files[0]?.nonce).not.toBe(reuse.nonce);
  });
});
