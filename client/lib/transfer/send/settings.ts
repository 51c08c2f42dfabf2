/** The sender's choices for a share, checked before anything is encrypted or sent. */
import {
  DEFAULT_EXPIRY_SECONDS,
  MAX_DOWNLOADS,
  MAX_EXPIRY_SECONDS,
  MIN_DOWNLOADS,
  MIN_EXPIRY_SECONDS,
} from '../../../../shared/limits.ts';

import type { ShareSettings } from '../../../../shared/share-plan.ts';

export type { ShareSettings };

/** The form's raw values (the download limit is the number input's text). */
export interface SettingsInput {
  expiresInSeconds: number;
  maxDownloads: string;
  password: string;
}

export const EXPIRY_CHOICES = [
  { seconds: 300, label: '5 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: DEFAULT_EXPIRY_SECONDS, label: '24 hours' },
  { seconds: 259200, label: '3 days' },
  { seconds: MAX_EXPIRY_SECONDS, label: '7 days' },
] as const;

export type SettingsErrors = Partial<Record<keyof SettingsInput, string>>;

export type SettingsResult = { ok: true; settings: ShareSettings } | { ok: false; errors: SettingsErrors };

export function validateSettings(input: SettingsInput): SettingsResult {
  const errors: SettingsErrors = {};
  const expiry = input.expiresInSeconds;
  if (!Number.isInteger(expiry) || expiry < MIN_EXPIRY_SECONDS || expiry > MAX_EXPIRY_SECONDS) {
    errors.expiresInSeconds = 'Choose an expiry between 5 minutes and 7 days.';
  }
  let maxDownloads: number | null = null;
  const limit = input.maxDownloads.trim();
  if (limit !== '') {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < MIN_DOWNLOADS || n > MAX_DOWNLOADS) {
      errors.maxDownloads = `Enter a whole number from ${MIN_DOWNLOADS} to ${MAX_DOWNLOADS}, or leave it empty for no limit.`;
    } else {
      maxDownloads = n;
    }
  }
  if (input.password !== '' && input.password.trim() === '') {
    errors.password = 'A password cannot be only spaces.';
  } else if (input.password.length > 1024) {
    errors.password = 'That password is too long (1024 characters at most).';
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, settings: { expiresInSeconds: expiry, maxDownloads, password: input.password } };
}
