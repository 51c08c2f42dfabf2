import { describe, expect, it, vi } from 'vitest';
import type { SentFile, ShareRecord } from '../../store/db.ts';
import type { Hasher } from '../hash/hasher.ts';
import type { Encryptor } from './encryptor.ts';
import type { FerryUppy } from './picker.svelte.ts';
import { prepareRun } from './upload-run.ts';

const file = (name: string): SentFile => ({
  name,
  size: 10,
  type: '',
  lastModified: 0,
  nonce: 'AAAAAAAAAAAAAAAA',
  recordSize: 1024,
  blake3: 'f'.repeat(64),
  checkpoint: null,
  uploadUrl: null,
  reused: false,
  uploaded: false,
});

const record = { id: 's', uploadToken: 'u', files: [file('a'), file('b')] } as unknown as ShareRecord;
const uppy = { setFileMeta: vi.fn(), setFileState: vi.fn() } as unknown as FerryUppy;
const hasher = {} as Hasher;

describe('prepareRun', () => {
  it('releases the files it already opened when setting up a later one fails', () => {
    let next = 0;
    const open = vi.fn(() => next++);
    const close = vi.fn();
    const encryptor = { open, close, range: vi.fn() } as unknown as Encryptor;
    const items = [
      { index: 0, file: new File(['0123456789'], 'a'), uppyId: 'a' },
      { index: 1, file: new File(['0123456789'], 'b'), uppyId: 'b' },
    ];
    // The second file has no key: setting it up throws.
    const fileKeys = new Map([[0, {} as CryptoKey]]);
    expect(() => prepareRun(uppy, record, items, { hasher, encryptor, fileKeys })).toThrow(/no key/);
    expect(open).toHaveBeenCalledTimes(1);
    expect(close).toHaveBeenCalledWith(0);
  });
});
