/** The history on the send view (`/`): sent shares and received files, per e2e/ui-contract.md. */
import { expect, type Locator, type Page } from '@playwright/test';

export class HistoryPage {
  readonly page: Page;
  readonly received: Locator;
  readonly receivedFiles: Locator;
  readonly clearReceived: Locator;

  constructor(page: Page) {
    this.page = page;
    this.received = page
      .locator('section')
      .filter({ has: page.getByRole('heading', { name: 'Received', exact: true }) });
    this.receivedFiles = page.getByRole('list', { name: 'Received files' });
    this.clearReceived = page.getByRole('button', { name: 'Clear received history' });
  }

  /** The entry of the received file named `name`. */
  receivedFile(name: string): Locator {
    return this.receivedFiles.getByRole('listitem').filter({ hasText: name });
  }

  /** The card of the sent share whose title is `title` (a file name or "N files"). */
  card(title: string): Locator {
    return this.page.getByRole('article').filter({ has: this.page.getByRole('heading', { name: title, exact: true }) });
  }

  /** Opens the card's QR code and answers its image. */
  async showQrCode(title: string): Promise<Locator> {
    const card = this.card(title);
    await card.getByRole('button', { name: 'Show QR code' }).click();
    return card.getByRole('img', { name: `QR code of the share link for ${title}` });
  }

  /**
   * Waits until this browser's `received` store holds `count` entries. The receive view
   * shows a verdict first and writes it a moment later, so a journey that leaves the page
   * right after a verdict waits for the write.
   */
  async waitForReceived(count: number): Promise<void> {
    await expect.poll(() => this.page.evaluate(countReceived), { message: 'received entries stored' }).toBe(count);
  }
}

/** Runs in the page: entries in `ferry`'s `received` store, 0 before the store exists. */
async function countReceived(): Promise<number> {
  const request = indexedDB.open('ferry');
  // No database yet: abort the empty one this open would create, so the app builds its own.
  request.onupgradeneeded = () => request.transaction?.abort();
  const database = await new Promise<IDBDatabase | null>((resolve) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
  });
  if (!database) return 0;
  try {
    if (!database.objectStoreNames.contains('received')) return 0;
    const counting = database.transaction('received').objectStore('received').count();
    return await new Promise<number>((resolve, reject) => {
      counting.onsuccess = () => resolve(counting.result);
      counting.onerror = () => reject(counting.error);
    });
  } finally {
    database.close();
  }
}
