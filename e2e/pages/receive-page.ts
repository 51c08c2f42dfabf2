/** The receive view (`/s/<id>#<key>`), through the accessible names in e2e/ui-contract.md. */
import { type Download, expect, type Locator, type Page } from '@playwright/test';

export class ReceivePage {
  readonly page: Page;
  readonly files: Locator;
  readonly downloadAllButton: Locator;
  readonly allVerified: Locator;
  readonly alert: Locator;

  constructor(page: Page) {
    this.page = page;
    this.files = page.getByRole('list', { name: 'Files' });
    this.downloadAllButton = page.getByRole('button', { name: 'Download all' });
    this.allVerified = page.getByText('All files verified');
    this.alert = page.getByRole('alert');
  }

  async open(link: string): Promise<void> {
    await this.page.goto(link);
  }

  /** Opens the link and waits for the file list. */
  async openShare(link: string): Promise<void> {
    await this.open(link);
    await expect(this.files).toBeVisible({ timeout: 30_000 });
  }

  async unlock(password: string): Promise<void> {
    await this.page.getByLabel('Password', { exact: true }).fill(password);
    await this.page.getByRole('button', { name: 'Unlock' }).click();
  }

  /** An error page's heading, e.g. "This link has expired". */
  errorHeading(text: string): Locator {
    return this.page.getByRole('heading', { name: text });
  }

  /** The list item of the file named `name` (its full relative path as in the manifest). */
  file(name: string): Locator {
    return this.files.getByRole('listitem').filter({ hasText: name });
  }

  downloadButton(name: string): Locator {
    return this.page.getByRole('button', { name: `Download ${name}`, exact: true });
  }

  /** Clicks "Download <name>" and waits for the browser's download to finish. */
  async download(name: string, timeout = 120_000): Promise<Download> {
    const [download] = await Promise.all([
      this.page.waitForEvent('download', { timeout }),
      this.downloadButton(name).click(),
    ]);
    return download;
  }

  /** Clicks "Download all" and waits for the ZIP download. */
  async downloadAll(timeout = 120_000): Promise<Download> {
    const [download] = await Promise.all([
      this.page.waitForEvent('download', { timeout }),
      this.downloadAllButton.click(),
    ]);
    return download;
  }

  /** The "Verified" status of a file. */
  verified(name: string): Locator {
    return this.file(name).getByText('Verified', { exact: true });
  }

  /** A file's progress while it downloads (its status text `NN%`), or -1 when it shows none. */
  async percent(name: string): Promise<number> {
    const status = this.file(name).getByText(/^\d{1,3}%$/);
    if ((await status.count()) === 0) return -1;
    // The status may turn into "Verified" between the count and the read.
    const text = await status
      .first()
      .textContent({ timeout: 1_000 })
      .catch(() => null);
    return text && /^\d{1,3}%$/.test(text.trim()) ? Number.parseInt(text, 10) : -1;
  }

  /** Waits until the file's download has reached `percent` (or shows Verified); returns the last percent seen. */
  async waitForPercent(name: string, percent: number, timeout = 60_000): Promise<number> {
    let seen = -1;
    await expect
      .poll(
        async () => {
          seen = (await this.verified(name).isVisible()) ? 100 : await this.percent(name);
          return seen;
        },
        { timeout, intervals: [50], message: `${name} reaches ${percent}%` },
      )
      .toBeGreaterThanOrEqual(percent);
    return seen;
  }
}
