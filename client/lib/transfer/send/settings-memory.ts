/**
 * What a next send starts from. Every field of the send form behaves the same way: a send
 * starts from the defaults, or, with "Remember my settings" on, from the expiry and limit
 * last sent (kept in localStorage for later visits too). The password is never remembered:
 * the form forgets it as soon as the share is created. Nothing is carried over silently:
 * the form shows exactly what the next send will use.
 */
import { DEFAULT_EXPIRY_SECONDS } from '../../../../shared/limits.ts';
import { EXPIRY_CHOICES } from './settings.ts';

export const REMEMBER_KEY = 'ferry.link-settings';

/** The remembered part of the settings (the download limit as the number field's text). */
export interface RememberedSettings {
  expiresInSeconds: number;
  maxDownloads: string;
}

export const DEFAULT_SETTINGS: RememberedSettings = { expiresInSeconds: DEFAULT_EXPIRY_SECONDS, maxDownloads: '' };

/** What localStorage holds, checked: anything else (edited, older) is as if nothing was remembered. */
export function parseRemembered(raw: string | null): RememberedSettings | null {
  if (!raw) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { expiresInSeconds, maxDownloads } = value as Record<string, unknown>;
  if (!EXPIRY_CHOICES.some((c) => c.seconds === expiresInSeconds)) return null;
  if (typeof maxDownloads !== 'string' || !/^\d{0,3}$/.test(maxDownloads)) return null;
  return { expiresInSeconds: expiresInSeconds as number, maxDownloads };
}

type SettingsStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function browserStorage(): SettingsStorage | undefined {
  try {
    return typeof window === 'undefined' ? undefined : window.localStorage;
  } catch {
    return undefined;
  }
}

/** The remembered settings in storage; storage that refuses (private mode, quota) remembers nothing. */
export class SettingsMemory {
  readonly #storage: SettingsStorage | undefined;

  constructor(storage: SettingsStorage | undefined = browserStorage()) {
    this.#storage = storage;
  }

  /** The remembered settings, or null when "Remember my settings" is off. */
  load(): RememberedSettings | null {
    try {
      return parseRemembered(this.#storage?.getItem(REMEMBER_KEY) ?? null);
    } catch {
      return null;
    }
  }

  /** Remembers the expiry and limit (and so turns "Remember my settings" on). */
  save(settings: RememberedSettings): void {
    const value: RememberedSettings = {
      expiresInSeconds: settings.expiresInSeconds,
      maxDownloads: String(settings.maxDownloads ?? '').trim(),
    };
    try {
      this.#storage?.setItem(REMEMBER_KEY, JSON.stringify(value));
    } catch {
      // Not remembered; the next send starts from the defaults, which the form shows.
    }
  }

  forget(): void {
    try {
      this.#storage?.removeItem(REMEMBER_KEY);
    } catch {
      // Nothing stored to forget.
    }
  }

  /**
   * After a share was created with `sent`: remembers it when asked and answers what the
   * form shows for the next send (the remembered settings, or the defaults).
   */
  next(sent: RememberedSettings, remember: boolean): RememberedSettings {
    if (!remember) return { ...DEFAULT_SETTINGS };
    this.save(sent);
    return this.load() ?? { ...DEFAULT_SETTINGS };
  }
}
