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
type Listener = (file: { id: string } | undefined) => void;

function fakeUppy() {
  const listeners = new Set<Listener>();
  return {
    setFileMeta: vi.fn(),
    setFileState: vi.fn(),
    on: (_event: string, fn: Listener) => listeners.add(fn),
    off: (_event: string, fn: Listener) => listeners.delete(fn),
    emitSuccess: (id: string) => {
      for (const fn of listeners) fn({ id });
    },
    listeners,
  };
}

const uppy = fakeUppy() as unknown as FerryUppy;
const hasher = {} as Hasher;
const items = () => [
  { index: 0, file: new File(['0123456789'], 'a'), uppyId: 'a' },
  { index: 1, file: new File(['0123456789'], 'b'), uppyId: 'b' },
];

describe('prepareRun', () => {
  it('releases the files it already opened when setting up a later one fails', () => {
    let next = 0;
    const open = vi.fn(() => next++);
    const close = vi.fn();
    const encryptor = { open, close, range: vi.fn() } as unknown as Encryptor;
    // The second file has no key: setting it up throws.
    const fileKeys = new Map([[0, {} as CryptoKey]]);
    expect(() => prepareRun(uppy, record, items(), { hasher, encryptor, fileKeys })).toThrow(/no key/);
    expect(open).toHaveBeenCalledTimes(1);
    expect(close).toHaveBeenCalledWith(0);
  });
});

describe('marking files uploaded', () => {
  it('marks each file on its own upload-success, even when a sibling then fails', async () => {
    const fake = fakeUppy();
    const encryptor = { open: vi.fn(() => 0), close: vi.fn(), range: vi.fn() } as unknown as Encryptor;
    const fileKeys = new Map([
      [0, {} as CryptoKey],
      [1, {} as CryptoKey],
    ]);
    const marked: number[] = [];
    const markUploaded = async (index: number) => {
      marked.push(index);
    };
    const run = prepareRun(fake as unknown as FerryUppy, record, items(), {
      hasher,
      encryptor,
      fileKeys,
      markUploaded,
    });
    fake.emitSuccess('b'); // file 1 sealed; file 0 then fails: no success event for it
    fake.emitSuccess('not-ours');
    await run.marked();
    expect(marked).toEqual([1]);
    run.close();
    expect(fake.listeners.size).toBe(0);
    fake.emitSuccess('a');
    expect(marked).toEqual([1]);
  });

  it('reports a mark that could not be stored', async () => {
    const fake = fakeUppy();
    const encryptor = { open: vi.fn(() => 0), close: vi.fn(), range: vi.fn() } as unknown as Encryptor;
    const fileKeys = new Map([
      [0, {} as CryptoKey],
      [1, {} as CryptoKey],
    ]);
    const markUploaded = () => Promise.reject(new Error('quota'));
    const run = prepareRun(fake as unknown as FerryUppy, record, items(), {
      hasher,
      encryptor,
      fileKeys,
      markUploaded,
    });
    fake.emitSuccess('a');
    await expect(run.marked()).rejects.toThrow('quota');
    run.close();
  });
});
