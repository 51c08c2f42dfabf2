/**
 * Keeps one sent link's state live on its card: asks the owner view (GET
 * /api/shares/:id/owner, owner token) how often it was downloaded and until when it lives,
 * every few seconds while the page is visible, and at once when the page comes back.
 */
import { FerryError } from '../../../shared/errors.ts';
import { getOwnerView } from '../api/share-client.ts';
import type { ShareRecord } from './db.ts';
import { type LinkState, type LinkStatus, linkStatus, type ServerSnapshot, stateOfRefusal } from './share-status.ts';

export class LiveShare {
  #server = $state<ServerSnapshot | null>(null);
  #refused = $state<LinkState | null>(null);
  #now = $state(Date.now());
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = true;
  #id = '';
  #ownerToken = '';
  #intervalMs = 30_000;

  /** The card's state for `record` (the stored copy may be newer than the last answer). */
  status(record: ShareRecord): LinkStatus {
    return linkStatus(record, this.#server, this.#refused, this.#now);
  }

  /** Starts asking about share `id` every `intervalMs` while the page is visible; answers the stop. */
  watch(id: string, ownerToken: string, intervalMs: number): () => void {
    this.#stop();
    this.#id = id;
    this.#ownerToken = ownerToken;
    this.#intervalMs = intervalMs;
    this.#stopped = false;
    document.addEventListener('visibilitychange', this.#onVisible);
    void this.refresh();
    return () => this.#stop();
  }

  /** Asks the server now (after an action, or when the page comes back). */
  async refresh(): Promise<void> {
    clearTimeout(this.#timer);
    if (this.#stopped || !this.#ownerToken) return;
    try {
      const view = await getOwnerView(this.#id, this.#ownerToken);
      this.#server = { downloads: view.downloads, maxDownloads: view.maxDownloads, expiresAt: view.expiresAt };
      this.#refused = null;
    } catch (error) {
      // A refusal that means the link is gone is shown; anything else (offline) keeps the last answer.
      if (error instanceof FerryError) this.#refused = stateOfRefusal(error) ?? this.#refused;
    }
    this.#now = Date.now();
    if (this.#stopped || this.#refused) return;
    if (document.visibilityState === 'visible') this.#timer = setTimeout(() => void this.refresh(), this.#intervalMs);
  }

  #onVisible = (): void => {
    if (document.visibilityState === 'visible') void this.refresh();
  };

  #stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    document.removeEventListener('visibilitychange', this.#onVisible);
  }
}
