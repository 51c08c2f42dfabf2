/** Request links, the requester's side: the "Ask for files" section of `/` and `/r/<id>` (e2e/ui-contract.md). */
import { expect, type Locator, type Page } from '@playwright/test';

export interface RequestOptions {
  megabytes?: number;
  files?: number;
  /** Seconds: 300, 3600, 86400, 259200 or 604800. */
  openFor?: number;
  /** The note for senders, carried in the link's fragment. */
  note?: string;
}

export class RequestPage {
  readonly page: Page;
  readonly links: Locator;
  readonly uploads: Locator;

  constructor(page: Page) {
    this.page = page;
    this.links = page.getByLabel('Request link', { exact: true });
    this.uploads = page.getByRole('list', { name: 'Received uploads' });
  }

  async open(): Promise<void> {
    await this.page.goto('/');
    await expect(this.page.getByRole('heading', { name: 'Ask for files' })).toBeVisible();
  }

  /** Fills the request settings, creates the link and returns it (the newest is listed first). */
  async create(options: RequestOptions = {}): Promise<string> {
    const before = await this.links.count();
    if (options.megabytes !== undefined) await this.page.getByLabel('Total size in MB').fill(String(options.megabytes));
    if (options.files !== undefined) await this.page.getByLabel('Number of files').fill(String(options.files));
    if (options.openFor !== undefined) await this.page.getByLabel('Open for').selectOption(String(options.openFor));
    if (options.note !== undefined) await this.page.getByLabel('Note for senders (optional)').fill(options.note);
    await this.page.getByRole('button', { name: 'Create request link' }).click();
    await expect(this.links).toHaveCount(before + 1);
    return await this.links.first().inputValue();
  }

  /** Opens the request's page, which in the browser that made it lists what was received. */
  async openInbox(link: string): Promise<void> {
    await this.page.goto(new URL(link).pathname);
    await expect(this.page.getByRole('heading', { name: 'Files sent to you' })).toBeVisible();
  }

  /** The received upload whose decrypted file names include `name`. */
  upload(name: string): Locator {
    return this.uploads
      .getByRole('listitem')
      .filter({ has: this.page.getByText(name, { exact: true }) })
      .first();
  }
}

/** The request id of a link `<origin>/r/<id>#<key>`. */
export function requestIdOf(link: string): string {
  const id = /\/r\/([A-Za-z0-9_-]{16})#/.exec(link)?.[1];
  if (!id) throw new Error(`not a request link: ${link}`);
  return id;
}
