import { describe, expect, it } from 'vitest';
import { validateSettings } from './settings.ts';

const base = { expiresInSeconds: 86400, maxDownloads: '', password: '' };

describe('validateSettings', () => {
  it('accepts the defaults as no limit and no password', () => {
    expect(validateSettings(base)).toEqual({
      ok: true,
      settings: { expiresInSeconds: 86400, maxDownloads: null, password: '' },
    });
  });

  it('bounds the download limit to 1..100 whole numbers', () => {
    for (const bad of ['0', '101', '2.5', 'x', '-1']) {
      const result = validateSettings({ ...base, maxDownloads: bad });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors.maxDownloads).toMatch(/1 to 100/);
    }
    const ok = validateSettings({ ...base, maxDownloads: ' 100 ' });
    expect(ok.ok && ok.settings.maxDownloads).toBe(100);
  });

  it('bounds the expiry to 5 minutes .. 7 days', () => {
    expect(validateSettings({ ...base, expiresInSeconds: 299 }).ok).toBe(false);
    expect(validateSettings({ ...base, expiresInSeconds: 604801 }).ok).toBe(false);
    expect(validateSettings({ ...base, expiresInSeconds: 300 }).ok).toBe(true);
  });

  it('refuses a password of only spaces', () => {
    expect(validateSettings({ ...base, password: '   ' }).ok).toBe(false);
  });
});
