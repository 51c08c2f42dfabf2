import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import { encryptedSize, recordAtCipherOffset } from '../../../../shared/records.ts';
import { backoffDelay, isRetryable, resumeOffset } from './resume.ts';

describe('resumeOffset', () => {
  const layout = { size: 5000, recordSize: 1024 };

  it('is the first ciphertext byte of the first missing record', () => {
    expect(resumeOffset(layout, 0)).toBe(0);
    expect(resumeOffset(layout, 1)).toBe(1040);
    expect(resumeOffset(layout, 4)).toBe(4160);
    // The last (short) record still starts on the record grid.
    expect(recordAtCipherOffset(layout, resumeOffset(layout, 4))).toBe(4);
    expect(resumeOffset(layout, 4)).toBeLessThan(encryptedSize(layout));
  });

  it('refuses records the file does not have', () => {
    expect(() => resumeOffset(layout, 5)).toThrow(RangeError);
    expect(() => resumeOffset(layout, -1)).toThrow(RangeError);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, is capped and jittered within [ceiling/2, ceiling]', () => {
    expect(backoffDelay(1, () => 0)).toBe(250);
    expect(backoffDelay(1, () => 1)).toBe(500);
    expect(backoffDelay(3, () => 1)).toBe(2000);
    expect(backoffDelay(20, () => 1)).toBe(8000);
  });
});

describe('isRetryable', () => {
  it('retries the network and 5xx, not the share being gone', () => {
    expect(isRetryable(new FerryError('NETWORK_ERROR', 'x'))).toBe(true);
    expect(isRetryable(new TypeError('network error'))).toBe(true);
    expect(isRetryable(new FerryError('OVERLOADED', 'x'))).toBe(true);
    expect(isRetryable(new FerryError('SHARE_EXPIRED', 'x'))).toBe(false);
    expect(isRetryable(new FerryError('RECORD_AUTH_FAILED', 'x'))).toBe(false);
  });
});
