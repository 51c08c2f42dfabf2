/**
 * A new version of Ferry waiting to take over (registerType "prompt"): a new service worker
 * installs beside the one controlling this page and waits (Service Workers §"Install").
 * Ferry asks before activating it, because a reload interrupts what the page is doing;
 * on "Reload" the waiting worker is told to skip waiting, and the page reloads once it has
 * taken control (`controllerchange`).
 */
import type { SwControl } from './messages.ts';

/** How often a long-lived page asks the server for a newer service worker. */
const UPDATE_CHECK_MS = 60 * 60 * 1000;

export class AppUpdate {
  #waiting = $state<ServiceWorker | null>(null);
  #reloading = false;

  /** True when a new version is installed and waiting. */
  get ready(): boolean {
    return this.#waiting !== null;
  }

  /** Follows `registration` for a waiting worker; returns the undo. */
  watch(registration: ServiceWorkerRegistration): () => void {
    const container = navigator.serviceWorker;
    // With no controller this is the first install: nothing older to replace.
    const offer = (worker: ServiceWorker | null) => {
      if (worker && container.controller) this.#waiting = worker;
    };
    offer(registration.waiting);
    const onUpdateFound = () => {
      const installing = registration.installing;
      // An update installs beside an active worker. The first install has none; asking for the
      // controller only once it is 'installed' is too late: WebKit can deliver that statechange
      // after the worker has activated and claimed the page, so the first install looked
      // like an update there.
      if (!registration.active) return;
      installing?.addEventListener('statechange', () => {
        if (installing.state === 'installed') offer(installing);
      });
    };
    const onControllerChange = () => {
      // Only the page that asked reloads; another tab's "Reload" also changes this one's controller.
      if (this.#reloading) location.reload();
    };
    registration.addEventListener('updatefound', onUpdateFound);
    container.addEventListener('controllerchange', onControllerChange);
    const timer = setInterval(() => void registration.update().catch(() => {}), UPDATE_CHECK_MS);
    return () => {
      clearInterval(timer);
      registration.removeEventListener('updatefound', onUpdateFound);
      container.removeEventListener('controllerchange', onControllerChange);
    };
  }

  /** Activates the waiting version; the page reloads when it has taken over. */
  reload(): void {
    if (!this.#waiting) return;
    this.#reloading = true;
    const message: SwControl = { type: 'SKIP_WAITING' };
    this.#waiting.postMessage(message);
  }
}

export const appUpdate = new AppUpdate();
