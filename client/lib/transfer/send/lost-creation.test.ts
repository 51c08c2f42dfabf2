import { describe, expect, it } from 'vitest';
import { isLostCreation, uploadUrlOfSlot } from './lost-creation.ts';

const tusError = (method: string, status: number, body: unknown) => ({
  originalRequest: { getMethod: () => method },
  originalResponse: { getStatus: () => status, getBody: () => JSON.stringify(body) },
});
const conflict = { error: { code: 'CONFLICT', message: 'File 0 already has an upload.' } };

describe('isLostCreation', () => {
  it('recognises a creating POST refused because the slot already has an upload', () => {
    expect(isLostCreation(tusError('POST', 409, conflict))).toBe(true);
  });
  it('leaves every other failure alone', () => {
    expect(isLostCreation(tusError('PATCH', 409, conflict))).toBe(false);
    expect(isLostCreation(tusError('POST', 409, { error: { code: 'LENGTH_MISMATCH', message: 'x' } }))).toBe(false);
    expect(isLostCreation(tusError('POST', 410, { error: { code: 'SHARE_REVOKED', message: 'x' } }))).toBe(false);
    expect(isLostCreation({ ...tusError('POST', 409, conflict), originalResponse: null })).toBe(false);
    expect(isLostCreation({ originalRequest: { getMethod: () => 'POST' } })).toBe(false);
    expect(isLostCreation(new Error('offline'))).toBe(false);
    expect(isLostCreation(undefined)).toBe(false);
    const garbled = { ...tusError('POST', 409, null), originalResponse: { getStatus: () => 409, getBody: () => '<' } };
    expect(isLostCreation(garbled)).toBe(false);
  });
});

describe('uploadUrlOfSlot', () => {
  const view = {
    files: [
      { index: 0, size: 10, uploaded: 0, sealed: false, blobId: 'abc123', blobToken: null },
      { index: 1, size: 10, uploaded: 0, sealed: false, blobId: null, blobToken: null },
    ],
  };
  it('answers the absolute upload URL of the slot, like the one stored after a 201', () => {
    expect(uploadUrlOfSlot(view, 0, 'https://ferry.example/files/')).toBe('https://ferry.example/files/abc123');
    expect(uploadUrlOfSlot(view, 0, new URL('/files/', 'http://localhost:8080/s/x'))).toBe(
      'http://localhost:8080/files/abc123',
    );
  });
  it('answers null when the slot holds no upload or does not exist', () => {
    expect(uploadUrlOfSlot(view, 1, 'https://ferry.example/files/')).toBeNull();
    expect(uploadUrlOfSlot(view, 5, 'https://ferry.example/files/')).toBeNull();
  });
});
