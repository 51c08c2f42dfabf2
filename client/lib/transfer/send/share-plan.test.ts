import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import type { SentFile } from '../../store/db.ts';
import { requireHashes, withFullHashes } from './share-plan.ts';

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
