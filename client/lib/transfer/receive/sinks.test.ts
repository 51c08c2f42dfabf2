import { describe, expect, it, vi } from 'vitest';
import { BLOB_LIMIT, chooseSink, chooseTarget, StreamingUnavailable } from './sinks.ts';

describe('chooseSink', () => {
  it('prefers the save picker, then the service worker for large files, else a Blob', () => {
    expect(chooseSink(10, { picker: true, serviceWorker: true })).toBe('picker');
    expect(chooseSink(BLOB_LIMIT + 1, { picker: true, serviceWorker: true })).toBe('picker');
    expect(chooseSink(BLOB_LIMIT + 1, { picker: true, serviceWorker: false })).toBe('picker');
    expect(chooseSink(BLOB_LIMIT, { picker: false, serviceWorker: true })).toBe('blob');
    expect(chooseSink(BLOB_LIMIT, { picker: false, serviceWorker: false })).toBe('blob');
    expect(chooseSink(BLOB_LIMIT + 1, { picker: false, serviceWorker: true })).toBe('service-worker');
  });

  it('never buffers more than BLOB_LIMIT in memory', () => {
    expect(chooseSink(BLOB_LIMIT + 1, { picker: false, serviceWorker: false })).toBeNull();
    expect(chooseSink(4 * 1024 ** 3, { picker: false, serviceWorker: false })).toBeNull();
  });
});

// Node has no showSaveFilePicker: these are the Firefox/Safari decisions.
describe('chooseTarget without a save picker', () => {
  it('asks for the service worker at click time, only when the download is too large for a Blob', async () => {
    const small = vi.fn(async () => true);
    expect((await chooseTarget('a.txt', BLOB_LIMIT, 'file', small))?.kind).toBe('blob');
    expect(small).not.toHaveBeenCalled();

    const late = vi.fn(async () => true);
    expect((await chooseTarget('big.iso', 4 * 1024 ** 3, 'file', late))?.kind).toBe('service-worker');
    expect(late).toHaveBeenCalledOnce();
  });

  it('refuses a large file or archive with a sentence when no service worker can stream it', async () => {
    const none = async () => false;
    const file = chooseTarget('big.iso', 4 * 1024 ** 3, 'file', none);
    await expect(file).rejects.toBeInstanceOf(StreamingUnavailable);
    await expect(file).rejects.toThrow(/^This browser can't stream a file this large to disk; try Chrome or Edge/);
    await expect(chooseTarget('all.zip', BLOB_LIMIT + 1, 'archive', none)).rejects.toThrow(
      /can't stream an archive this large to disk; try Chrome or Edge, or download the files one at a time\./,
    );
  });
});
