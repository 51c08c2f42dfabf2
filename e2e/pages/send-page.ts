/** The send view (`/`), through the accessible names in e2e/ui-contract.md. */
import { expect, type Locator, type Page } from '@playwright/test';

export interface SendOptions {
  /** Seconds: 300, 3600, 86400, 259200 or 604800. */
  expiresAfter?: number;
  downloadLimit?: number;
  password?: string;
}

export class SendPage {
  readonly page: Page;
  readonly dropzone: Locator;
  readonly sendButton: Locator;
  readonly progress: Locator;
  readonly shareLink: Locator;
  readonly unfinished: Locator;
  readonly alert: Locator;
  readonly sendMoreButton: Locator;

  constructor(page: Page) {
    this.page = page;
    this.dropzone = page.getByTestId('dropzone');
    this.sendButton = page.getByRole('button', { name: 'Send', exact: true });
    this.progress = page.getByRole('progressbar', { name: 'Upload progress' });
    this.shareLink = page.getByLabel('Share link');
    this.unfinished = page
      .locator('section')
      .filter({ has: page.getByRole('heading', { name: 'Unfinished uploads' }) });
    this.alert = page.getByRole('alert');
    this.sendMoreButton = page.getByRole('button', { name: 'Send more' });
  }

  /** After a send the link's card takes the form's place; "Send more" brings the form back. */
  async #toForm(): Promise<void> {
    if (await this.sendMoreButton.isVisible()) await this.sendMoreButton.click();
  }

  async open(): Promise<void> {
    await this.page.goto('/');
    await expect(this.dropzone).toBeVisible();
  }

  /**
   * The pick area's file or folder input (FilePicker.svelte). It works before Uppy has
   * loaded and stays in the page while the Dashboard lists the picked files.
   */
  #input(folder: boolean): Locator {
    return this.page.getByLabel(folder ? 'Folder to send' : 'Files to send', { exact: true });
  }

  /** Picks files through the pick area's file input. */
  async addFiles(paths: string | string[]): Promise<void> {
    await this.#toForm();
    await this.#input(false).setInputFiles(paths);
  }

  /** Picks a whole folder through the pick area's folder input. */
  async addFolder(path: string): Promise<void> {
    await this.#toForm();
    await this.#input(true).setInputFiles(path);
  }

  async setOptions(options: SendOptions): Promise<void> {
    await this.#toForm();
    if (options.expiresAfter !== undefined) {
      await this.page.getByLabel('Expires after').selectOption(String(options.expiresAfter));
    }
    if (options.downloadLimit !== undefined) {
      await this.page.getByLabel('Download limit').fill(String(options.downloadLimit));
    }
    if (options.password !== undefined) {
      await this.page.getByLabel('Password (optional)').fill(options.password);
    }
  }

  /** Share links on the page when Send was last clicked (earlier sends stay listed). */
  #linksBefore = new Set<string>();

  async #links(): Promise<string[]> {
    const values: string[] = [];
    for (const input of await this.shareLink.all()) values.push(await input.inputValue());
    return values;
  }

  async send(): Promise<void> {
    await expect(this.sendButton).toBeEnabled();
    this.#linksBefore = new Set(await this.#links());
    await this.sendButton.click();
  }

  /** The upload progress in percent (aria-valuenow), or -1 while there is no progress bar. */
  async percent(): Promise<number> {
    if (!(await this.progress.isVisible())) return -1;
    return Number((await this.progress.getAttribute('aria-valuenow')) ?? -1);
  }

  /** Waits until the upload has reached `percent` (or finished). */
  async waitForProgress(percent: number, timeout = 60_000): Promise<number> {
    let seen = -1;
    await expect
      .poll(
        async () => {
          seen = await this.percent();
          // The link shows while the upload runs; the progress bar goes when it is done.
          if (seen === -1 && (await this.#links()).some((value) => !this.#linksBefore.has(value))) return 100;
          return seen;
        },
        { timeout, intervals: [50] },
      )
      .toBeGreaterThanOrEqual(percent);
    return seen;
  }

  /** Waits for the upload to finish and returns the new share link. */
  async link(timeout = 120_000): Promise<string> {
    const link = await this.linkNow(timeout);
    await expect(this.progress, 'the upload finishes').toHaveCount(0, { timeout });
    return link;
  }

  /**
   * The new share link as soon as the page shows it, while the upload may still run (a
   * recipient can open it at once). Read from the visible Share link field.
   */
  async linkNow(timeout = 30_000): Promise<string> {
    let link = '';
    await expect
      .poll(
        async () => {
          link = (await this.#links()).find((value) => !this.#linksBefore.has(value)) ?? '';
          return link;
        },
        { timeout, message: 'a new share link appears' },
      )
      .toMatch(/\/s\/[A-Za-z0-9_-]{16}#[A-Za-z0-9_-]+$/);
    return link;
  }

  /** Picks, sets options, sends, and returns the link. */
  async sendFiles(paths: string | string[], options: SendOptions = {}): Promise<string> {
    await this.addFiles(paths);
    await this.setOptions(options);
    await this.send();
    return await this.link();
  }

  /** Revokes the shown link: Revoke link, then Revoke now in the confirmation. */
  async revoke(): Promise<void> {
    await this.page.getByRole('button', { name: 'Revoke link' }).click();
    await this.page.getByRole('button', { name: 'Revoke now' }).click();
  }

  /** The card of the current send (the one with "Send more" or the upload's progress). */
  get currentCard(): Locator {
    return this.page.getByRole('article').first();
  }

  async extend(): Promise<void> {
    await this.page.getByRole('button', { name: 'Extend by 24 hours' }).click();
  }

  /** The item of an unfinished upload that mentions `name`. */
  unfinishedItem(name: string): Locator {
    return this.unfinished.getByRole('listitem').filter({ hasText: name });
  }

  /** Resumes an unfinished upload, choosing the file again when the app asks for it. */
  async resume(name: string, path: string): Promise<void> {
    const item = this.unfinishedItem(name);
    await expect(item).toBeVisible();
    const chooseAgain = this.page.getByLabel(`Choose ${name} again`);
    if (await chooseAgain.isVisible()) await chooseAgain.setInputFiles(path);
    const resume = item.getByRole('button', { name: 'Resume' });
    if (await resume.isVisible()) await resume.click();
  }
}
