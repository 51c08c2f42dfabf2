/**
 * Keeping the user's attention while transfers run: a screen wake lock while any transfer
 * runs (the browser drops it when the page is hidden, so it is taken again on return),
 * notifications when something finishes or arrives while the page is hidden (only after the
 * user turned them on with a click), and a "resume" signal when the page becomes visible
 * again, so stalled uploads retry at once instead of after their backoff.
 *
 * Every browser API comes through `AttentionEnv`, so tests inject fakes; a missing API is
 * simply skipped and nothing here throws. Notifications never carry file names.
 */

export interface WakeLockLike {
  release(): Promise<void>;
  addEventListener?(type: 'release', listener: () => void): void;
}

export interface NotificationStatic {
  readonly permission: NotificationPermission;
  requestPermission(): Promise<NotificationPermission>;
  new (title: string, options?: NotificationOptions): unknown;
}

interface ListenerTarget {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

export interface AttentionEnv {
  wakeLock?: { request(type: 'screen'): Promise<WakeLockLike> } | undefined;
  document?: (ListenerTarget & { readonly visibilityState: DocumentVisibilityState }) | undefined;
  Notification?: NotificationStatic | undefined;
  /** The service worker's `registration.showNotification`, preferred when there is one. */
  showNotification?:
    | (() => Promise<((title: string, options?: NotificationOptions) => Promise<void>) | null>)
    | undefined;
  storage?: Pick<Storage, 'getItem' | 'setItem'> | undefined;
}

const STORAGE_KEY = 'ferry.notify';

/** The browser's APIs, or none of them outside a browser. */
export function browserEnv(): AttentionEnv {
  if (typeof window === 'undefined' || typeof document === 'undefined') return {};
  const nav = navigator as Navigator & { wakeLock?: AttentionEnv['wakeLock'] };
  let storage: Storage | undefined;
  try {
    storage = window.localStorage;
  } catch {
    storage = undefined;
  }
  return {
    wakeLock: nav.wakeLock,
    document,
    Notification: typeof Notification === 'function' ? Notification : undefined,
    showNotification: nav.serviceWorker ? () => activeRegistration(nav.serviceWorker) : undefined,
    storage,
  };
}

/** How long a notification waits for a service worker that is still installing. */
const READY_WAIT_MS = 10_000;

/**
 * The service worker's `showNotification`, once the registration has an active worker. On a
 * first visit the worker is still installing (precaching the app) for a while, and
 * `showNotification` on a registration without an active worker rejects, so this waits for
 * it (bounded); null when there is no registration or it does not activate in time.
 */
export async function activeRegistration(
  container: Pick<ServiceWorkerContainer, 'getRegistration' | 'ready'>,
  waitMs = READY_WAIT_MS,
): Promise<((title: string, options?: NotificationOptions) => Promise<void>) | null> {
  const registration = await container.getRegistration();
  if (!registration) return null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ready = registration.active
    ? registration
    : await Promise.race([
        container.ready,
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), waitMs);
        }),
      ]).finally(() => clearTimeout(timer));
  if (!ready?.active) return null;
  return (title, options) => ready.showNotification(title, options);
}

export class Attention {
  readonly #env: AttentionEnv;
  readonly #running = new Set<unknown>();
  readonly #resumers = new Set<() => void>();
  #lock: WakeLockLike | null = null;
  #locking = false;
  #enabled: boolean;

  constructor(env: AttentionEnv = browserEnv()) {
    this.#env = env;
    this.#enabled = this.permission === 'granted' && this.#stored() === '1';
    env.document?.addEventListener('visibilitychange', this.#onVisibility);
  }

  /** Stops listening to the document. */
  dispose(): void {
    this.#env.document?.removeEventListener('visibilitychange', this.#onVisibility);
    this.#running.clear();
    void this.#release();
  }

  /** Whether `transfer` (any identity) runs now. Idempotent; the lock is held while any runs. */
  running(transfer: unknown, on: boolean): void {
    if (on) this.#running.add(transfer);
    else this.#running.delete(transfer);
    this.#sync();
  }

  /** True while a wake lock is held (for tests and diagnostics). */
  get locked(): boolean {
    return this.#lock !== null;
  }

  /** Runs `fn` whenever the page becomes visible again; answers the unsubscribe. */
  onResume(fn: () => void): () => void {
    this.#resumers.add(fn);
    return () => this.#resumers.delete(fn);
  }

  /** Whether this browser can show notifications at all. */
  get canNotify(): boolean {
    return this.#env.Notification !== undefined;
  }

  get permission(): NotificationPermission | 'unsupported' {
    try {
      return this.#env.Notification?.permission ?? 'unsupported';
    } catch {
      return 'unsupported';
    }
  }

  /** The user asked for notifications (and the browser allows them). */
  get notifying(): boolean {
    return this.#enabled && this.permission === 'granted';
  }

  /**
   * Turns notifications on or off. Call straight from a click: asking for permission needs
   * the user's gesture. Answers whether notifications are on afterwards.
   */
  async setNotifying(on: boolean): Promise<boolean> {
    if (!on || !this.#env.Notification) {
      this.#enabled = false;
      this.#store('0');
      return false;
    }
    let permission = this.permission;
    if (permission === 'default') {
      try {
        permission = await this.#env.Notification.requestPermission();
      } catch {
        permission = 'denied';
      }
    }
    this.#enabled = permission === 'granted';
    this.#store(this.#enabled ? '1' : '0');
    return this.#enabled;
  }

  /**
   * Shows a notification if the user turned them on and the page is hidden (when it is
   * visible, the page itself says it). Never put file names in `title` or `body`.
   */
  async notify(title: string, body: string): Promise<void> {
    if (!this.notifying || this.#env.document?.visibilityState !== 'hidden') return;
    const options: NotificationOptions = { body, tag: 'ferry', icon: '/icons/icon-192.png' };
    try {
      const show = await this.#env.showNotification?.();
      // Waiting for the service worker can take seconds: the user may be back by now.
      if (this.#env.document?.visibilityState !== 'hidden') return;
      if (show) {
        await show(title, options);
        return;
      }
    } catch {
      // Fall back to a page notification.
    }
    try {
      const Ctor = this.#env.Notification;
      if (Ctor) new Ctor(title, options);
    } catch {
      // Some browsers (Android Chrome) allow only service-worker notifications.
    }
  }

  #onVisibility = (): void => {
    if (this.#env.document?.visibilityState !== 'visible') return;
    // The browser released the lock when the page was hidden.
    this.#sync();
    for (const fn of this.#resumers) {
      try {
        fn();
      } catch (error) {
        console.warn('Ferry could not resume a transfer', error);
      }
    }
  };

  #sync(): void {
    if (this.#running.size === 0) {
      void this.#release();
      return;
    }
    if (this.#lock || this.#locking || !this.#env.wakeLock) return;
    if (this.#env.document && this.#env.document.visibilityState !== 'visible') return;
    void this.#acquire(this.#env.wakeLock);
  }

  async #acquire(wakeLock: NonNullable<AttentionEnv['wakeLock']>): Promise<void> {
    this.#locking = true;
    try {
      const lock = await wakeLock.request('screen');
      this.#locking = false;
      if (this.#running.size === 0) {
        await lock.release().catch(() => undefined);
        return;
      }
      this.#lock = lock;
      lock.addEventListener?.('release', () => {
        if (this.#lock === lock) this.#lock = null;
      });
    } catch {
      // Refused (page hidden, battery saver, policy): the transfer runs anyway.
      this.#locking = false;
    }
  }

  async #release(): Promise<void> {
    const lock = this.#lock;
    this.#lock = null;
    try {
      await lock?.release();
    } catch {
      // Already released.
    }
  }

  #stored(): string | null {
    try {
      return this.#env.storage?.getItem(STORAGE_KEY) ?? null;
    } catch {
      return null;
    }
  }

  #store(value: string): void {
    try {
      this.#env.storage?.setItem(STORAGE_KEY, value);
    } catch {
      // Private mode: the choice lasts for this page.
    }
  }
}

/** The app's one instance. */
export const attention = new Attention();
