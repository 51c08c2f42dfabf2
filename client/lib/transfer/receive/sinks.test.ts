import { describe, expect, it, vi } from 'vitest';
import { BLOB_LIMIT, chooseSink, chooseTarget, StreamingUnavailable } from './sinks.ts';

describe('chooseSink', () => {
  it('prefers the save picker, then the service worker for large files, else a Blob', () => {
    expect(chooseSink(10, { picker: true, serviceWorker: 'transfer' })).toBe('picker');
    expect(chooseSink(BLOB_LIMIT + 1, { picker: true, serviceWorker: 'transfer' })).toBe('picker');
    expect(chooseSink(BLOB_LIMIT + 1, { picker: true, serviceWorker: null })).toBe('picker');
    expect(chooseSink(BLOB_LIMIT, { picker: false, serviceWorker: 'transfer' })).toBe('blob');
    expect(chooseSink(BLOB_LIMIT, { picker: false, serviceWorker: 'fetch' })).toBe('blob');
    expect(chooseSink(BLOB_LIMIT, { picker: false, serviceWorker: null })).toBe('blob');
    expect(chooseSink(BLOB_LIMIT + 1, { picker: false, serviceWorker: 'transfer' })).toBe('service-worker');
  });

  it('has the service worker fetch a large file or archive where streams do not transfer (Safari)', () => {
    expect(chooseSink(BLOB_LIMIT + 1, { picker: false, serviceWorker: 'fetch' })).toBe('service-worker-fetch');
    expect(chooseSink(4 * 1024 ** 3, { picker: false, serviceWorker: 'fetch' })).toBe('service-worker-fetch');
  });

  it('never buffers more than BLOB_LIMIT in memory', () => {
    expect(chooseSink(BLOB_LIMIT + 1, { picker: false, serviceWorker: null })).toBeNull();
    expect(chooseSink(4 * 1024 ** 3, { picker: false, serviceWorker: null })).toBeNull();
  });
});

// Node has no showSaveFilePicker: these are the Firefox/Safari decisions.
describe('chooseTarget without a save picker', () => {
  it('asks for the service worker at click time, only when the download is too large for a Blob', async () => {
    const small = vi.fn(async () => 'transfer' as const);
    expect((await chooseTarget('a.txt', BLOB_LIMIT, 'file', small))?.kind).toBe('blob');
    expect(small).not.toHaveBeenCalled();

    const late = vi.fn(async () => 'transfer' as const);
    expect((await chooseTarget('big.iso', 4 * 1024 ** 3, 'file', late))?.kind).toBe('service-worker');
    expect(late).toHaveBeenCalledOnce();

    const safari = async () => 'fetch' as const;
    expect((await chooseTarget('big.iso', 4 * 1024 ** 3, 'file', safari))?.kind).toBe('service-worker-fetch');
    expect((await chooseTarget('all.zip', BLOB_LIMIT + 1, 'archive', safari))?.kind).toBe('service-worker-fetch');
  });

  it('refuses a large file or archive with a sentence when no service worker can stream it', async () => {
    const none = async () => null;
    const file = chooseTarget('big.iso', 4 * 1024 ** 3, 'file', none);
    await expect(file).rejects.toBeInstanceOf(StreamingUnavailable);
    await expect(file).rejects.toThrow(/^This browser can't stream a file this large to disk; try Chrome or Edge/);
    await expect(chooseTarget('all.zip', BLOB_LIMIT + 1, 'archive', none)).rejects.toThrow(
      /can't save an archive this large; try Chrome or Edge, a window that is not private, or download the files one at a time\./,
    );
  });
});
