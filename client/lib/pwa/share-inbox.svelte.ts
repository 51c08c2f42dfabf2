/**
 * What was shared with Ferry from another app (share-target.ts), on the page: read once at
 * startup from the `?shared=<id>` the service worker redirected to, then handed to the send
 * view's picker. The query is removed from the address, so a reload does not look again.
 */
import {
  isStashId,
  parseRejection,
  SHARE_ERROR_PARAM,
  SHARED_PARAM,
  type ShareRejection,
  takeStash,
} from './share-target.ts';

const MESSAGES: Record<ShareRejection | 'missing', string> = {
  'too-many-files': 'Too many files were shared at once. Ferry takes up to 100; add the rest here.',
  'too-large': 'The shared files are too large to take over. Add them here instead.',
  empty: 'Nothing was shared: no files and no text arrived.',
  unreadable: 'The shared files could not be read. Add them here instead.',
  'no-space': 'This browser had no room to keep the shared files. Add them here instead.',
  missing: 'The shared files are no longer here. Share them again or add them here.',
};

export class ShareInbox {
  #text = $state('');
  #error = $state<string | null>(null);
  #count = $state(0);
  #files: Promise<File[]> = Promise.resolve([]);

  /** Text shared along with (or instead of) files: title, text and URL. */
  get text(): string {
    return this.#text;
  }
  /** Why a share could not be taken over. */
  get error(): string | null {
    return this.#error;
  }
  /** Files taken from the last share. */
  get count(): number {
    return this.#count;
  }

  /** Looks at the address once at startup; starts reading the stash it names. */
  open(address: Location, history: History): void {
    const url = new URL(address.href);
    const id = url.searchParams.get(SHARED_PARAM);
    const rejection = url.searchParams.get(SHARE_ERROR_PARAM);
    if (id === null && rejection === null) return;
    url.searchParams.delete(SHARED_PARAM);
    url.searchParams.delete(SHARE_ERROR_PARAM);
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    if (id === null) {
      this.#error = MESSAGES[parseRejection(rejection) ?? 'unreadable'];
      return;
    }
    this.#files = this.#read(id);
  }

  /** The shared files, once: a second call gets none. */
  takeFiles(): Promise<File[]> {
    const files = this.#files;
    this.#files = Promise.resolve([]);
    return files;
  }

  dismiss(): void {
    this.#text = '';
    this.#error = null;
    this.#count = 0;
  }

  async #read(id: string): Promise<File[]> {
    const stash = isStashId(id) ? await takeStash(id).catch(() => undefined) : undefined;
    if (!stash) {
      this.#error = MESSAGES.missing;
      return [];
    }
    this.#text = stash.text;
    this.#count = stash.files.length;
    return stash.files;
  }
}

/** The one inbox: App opens it, the send view takes its files. */
export const shareInbox = new ShareInbox();
