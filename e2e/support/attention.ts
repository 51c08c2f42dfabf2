/**
 * Watching what Ferry does for the user's attention in a real Chromium: the notifications
 * it shows, the screen wake locks it takes and releases, and the page's visibility.
 *
 * Headless Chromium keeps every Playwright page visible (`page.bringToFront()` on another
 * page of the same context leaves `document.visibilityState` at 'visible', and a tab in the
 * same window cannot be opened), so `setHidden` overrides `visibilityState` / `hidden` and
 * dispatches `visibilitychange` itself; hiding also releases the page's wake locks, as the
 * Screen Wake Lock spec has the browser do when a document is hidden. Wake locks are real: `grantWakeLock` grants the
 * permission through CDP; only if a real request still throws does the recorder answer a
 * stand-in sentinel, and it records that it did (`real: false`).
 */
import type { Browser, BrowserContext, Page } from '@playwright/test';

export interface ShownNotification {
  title: string;
  body: string;
  /** `document.visibilityState` when the app asked for it. */
  visibility: string;
  via: 'page' | 'service-worker';
  /** The browser accepted it (the service worker's promise resolved, or the page's `show` fired). */
  shown: boolean;
  /** The browser refused it: why (the service worker's promise rejected, or the page's `error` fired). */
  refused?: string;
}

export interface WakeLockRecord {
  /** The browser granted a real sentinel (false: the stand-in after a refusal). */
  real: boolean;
  released: boolean;
}

interface Recorded {
  notifications: ShownNotification[];
  wakeLocks: WakeLockRecord[];
}

/** Installed before any of the page's scripts run (Playwright init script). */
function record(): void {
  const recorded: Recorded = { notifications: [], wakeLocks: [] };
  const w = window as unknown as { __ferryAttention: Recorded; __ferrySetHidden: (hidden: boolean) => void };
  w.__ferryAttention = recorded;

  let hidden = false;
  const sentinels: WakeLockSentinel[] = [];
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get: () => (hidden ? 'hidden' : 'visible'),
  });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  w.__ferrySetHidden = (value: boolean) => {
    hidden = value;
    if (hidden) for (const sentinel of sentinels.splice(0)) void sentinel.release();
    document.dispatchEvent(new Event('visibilitychange'));
  };

  const note = (title: string, options: NotificationOptions | undefined, via: ShownNotification['via']) => {
    const entry: ShownNotification = {
      title,
      body: options?.body ?? '',
      visibility: document.visibilityState,
      via,
      shown: false,
    };
    recorded.notifications.push(entry);
    return entry;
  };

  const PageNotification = window.Notification;
  if (typeof PageNotification === 'function') {
    class RecordedNotification extends PageNotification {
      constructor(title: string, options?: NotificationOptions) {
        const entry = note(title, options, 'page');
        super(title, options);
        this.addEventListener('show', () => {
          entry.shown = true;
        });
        this.addEventListener('error', () => {
          entry.refused = 'error event';
        });
      }
    }
    window.Notification = RecordedNotification;
  }
  if (typeof ServiceWorkerRegistration === 'function') {
    const show = ServiceWorkerRegistration.prototype.showNotification;
    ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
      const entry = note(title, options, 'service-worker');
      return show.call(this, title, options).then(
        () => {
          entry.shown = true;
        },
        (error: unknown) => {
          entry.refused = String(error);
          throw error;
        },
      );
    };
  }

  const wakeLock = (navigator as Navigator & { wakeLock?: WakeLock }).wakeLock;
  if (wakeLock) {
    const request = wakeLock.request.bind(wakeLock);
    wakeLock.request = async (type?: WakeLockType) => {
      try {
        const sentinel = await request(type);
        const entry: WakeLockRecord = { real: true, released: false };
        recorded.wakeLocks.push(entry);
        sentinels.push(sentinel);
        sentinel.addEventListener('release', () => {
          entry.released = true;
        });
        return sentinel;
      } catch {
        const entry: WakeLockRecord = { real: false, released: false };
        recorded.wakeLocks.push(entry);
        const standIn = new EventTarget() as WakeLockSentinel;
        Object.assign(standIn, {
          type: 'screen',
          released: false,
          onrelease: null,
          release: async () => {
            entry.released = true;
            standIn.dispatchEvent(new Event('release'));
          },
        });
        return standIn;
      }
    };
  }
}

/** Records notifications and wake locks in every page of `context` from now on. */
export async function recordAttention(context: BrowserContext): Promise<void> {
  await context.addInitScript(record);
}

/** Grants the screen wake lock to `origin` (Playwright's `grantPermissions` does not know it). */
export async function grantWakeLock(browser: Browser, origin: string): Promise<void> {
  const session = await browser.newBrowserCDPSession();
  await session.send('Browser.setPermission', { permission: { name: 'screen-wake-lock' }, setting: 'granted', origin });
  await session.detach();
}

/** What the page has recorded so far. */
export async function recorded(page: Page): Promise<Recorded> {
  return await page.evaluate(() => (window as unknown as { __ferryAttention: Recorded }).__ferryAttention);
}

/** Hides or shows the page, as switching to another app and back would. */
export async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate(
    (value) => (window as unknown as { __ferrySetHidden: (hidden: boolean) => void }).__ferrySetHidden(value),
    hidden,
  );
}

/** Wake locks not yet released. */
export function held(records: WakeLockRecord[]): number {
  return records.filter((entry) => !entry.released).length;
}
