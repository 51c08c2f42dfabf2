import { describe, expect, it } from 'vitest';
import { BLOB_LIMIT, chooseSink } from './sinks.ts';

describe('chooseSink', () => {
  it('prefers the save picker, then the service worker for large files, else a Blob', () => {
    expect(chooseSink(10, { picker: true, serviceWorker: true })).toBe('picker');
    expect(chooseSink(BLOB_LIMIT + 1, { picker: true, serviceWorker: true })).toBe('picker');
    expect(chooseSink(BLOB_LIMIT, { picker: false, serviceWorker: true })).toBe('blob');
    expect(chooseSink(BLOB_LIMIT + 1, { picker: false, serviceWorker: true })).toBe('service-worker');
    expect(chooseSink(BLOB_LIMIT + 1, { picker: false, serviceWorker: false })).toBe('blob');
  });
});
