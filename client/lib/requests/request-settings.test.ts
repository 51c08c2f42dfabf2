import { describe, expect, it } from 'vitest';
import { DEFAULT_RECORD_SIZE } from '../../../shared/limits.ts';
import { encryptedSize } from '../../../shared/records.ts';
import type { RequestInfo } from '../../../shared/request-api.ts';
import { limitProblem, remainingText, validateRequestSettings } from './request-settings.ts';

const info = (extra: Partial<RequestInfo> = {}): RequestInfo => ({
  id: 'AAAAbbbbCCCCdddd',
  expiresAt: 0,
  maxBytes: 1_000_000,
  maxFiles: 3,
  usedBytes: 0,
  usedFiles: 0,
  ...extra,
});

describe('request settings', () => {
  it('turns megabytes into the stored (encrypted) bytes the server counts', () => {
    const result = validateRequestSettings({ megabytes: '2', files: '5', expiresInSeconds: 3600, note: ' Tax scans ' });
    expect(result).toEqual({
      ok: true,
      body: {
        maxBytes: encryptedSize({ size: 2_000_000, recordSize: DEFAULT_RECORD_SIZE }),
        maxFiles: 5,
        expiresInSeconds: 3600,
      },
      note: 'Tax scans',
    });
  });

  it('names every field that is out of range', () => {
    const result = validateRequestSettings({ megabytes: '0.5', files: '', expiresInSeconds: 60, note: 'a\tb' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(['expiresInSeconds', 'files', 'megabytes', 'note']);
    expect(result.errors.files).toContain('whole number of files');
  });
});

describe('limits a sender meets', () => {
  it('accepts files that fit and says what is left', () => {
    expect(limitProblem(info(), [{ size: 500_000 }, { size: 400_000 }], DEFAULT_RECORD_SIZE)).toBeNull();
    expect(remainingText(info({ usedFiles: 2, usedBytes: 500_000 }))).toBe('1 file and 500 kB');
  });

  it('refuses too many files and too many bytes with a sentence that says how much is left', () => {
    expect(limitProblem(info({ usedFiles: 2 }), [{ size: 1 }, { size: 1 }], DEFAULT_RECORD_SIZE)).toBe(
      'This request takes 1 more file; you chose 2. Remove some and send again.',
    );
    expect(limitProblem(info({ usedBytes: 600_000 }), [{ size: 500_000 }], DEFAULT_RECORD_SIZE)).toBe(
      'These files are too large for this request: 500 kB chosen, 400 kB left. Remove some and send again.',
    );
    expect(limitProblem(info({ usedFiles: 3 }), [{ size: 1 }], DEFAULT_RECORD_SIZE)).toBe(
      'This request is full: it takes no more files.',
    );
    // Exactly the plaintext that fits is still too much once each record carries its tag.
    expect(limitProblem(info(), [{ size: 1_000_000 }], DEFAULT_RECORD_SIZE)).toContain('too large');
  });
});
