import { describe, expect, it } from 'vitest';
import { FerryError } from '../shared/errors.ts';
import { EXIT, exitOf } from './exit-codes.ts';
import { parseDownloads, parseDuration } from './options.ts';

describe('ferry options', () => {
  it('reads durations from 5 minutes to 7 days', () => {
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('7d')).toBe(604_800);
    for (const bad of ['4m', '8d', '1 week', '', '1.5h', '-1h']) {
      expect(() => parseDuration(bad), bad).toThrow(FerryError);
    }
  });

  it('reads a download limit of 1 to 100, none when absent', () => {
    expect(parseDownloads(undefined)).toBeNull();
    expect(parseDownloads('1')).toBe(1);
    expect(parseDownloads('100')).toBe(100);
    for (const bad of ['0', '101', '2.5', 'x']) expect(() => parseDownloads(bad), bad).toThrow(FerryError);
  });
});

describe('ferry exit statuses', () => {
  it('groups codes and prints the code first', () => {
    const tampered = exitOf(new FerryError('RECORD_AUTH_FAILED', 'a.bin: record 3 failed verification.'));
    expect(tampered).toEqual({
      status: EXIT.VERIFICATION,
      line: 'ferry: RECORD_AUTH_FAILED: a.bin: record 3 failed verification.',
    });
    expect(exitOf(new FerryError('SHARE_EXPIRED', 'gone')).status).toBe(EXIT.GONE);
    expect(exitOf(new FerryError('WRONG_PASSWORD', 'no')).status).toBe(EXIT.KEY);
    expect(exitOf(new Error('boom'))).toEqual({ status: EXIT.FAILED, line: 'ferry: INTERNAL: boom' });
  });
});
