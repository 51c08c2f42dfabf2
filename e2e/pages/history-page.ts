/** The history on the send view (`/`): sent shares and received files, per e2e/ui-contract.md. */
import type { Locator, Page } from '@playwright/test';

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
}
