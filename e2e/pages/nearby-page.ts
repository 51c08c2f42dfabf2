/** The "Nearby devices" section of the send view, on either side of a direct transfer. */
import { expect, type Locator, type Page } from '@playwright/test';

export class NearbyPage {
  readonly page: Page;
  readonly section: Locator;

  constructor(page: Page) {
    this.page = page;
    this.section = page.getByRole('region', { name: 'Nearby devices' });
  }

  /** Opens Ferry and answers the name this device was given by the server. */
  async open(): Promise<string> {
    await this.page.goto('/');
    const self = this.section.getByText('This device appears as').locator('strong');
    await expect(self).toBeVisible({ timeout: 20_000 });
    return (await self.textContent()) ?? '';
  }

  tile(name: string): Locator {
    return this.page.getByRole('button', { name: `Send to ${name}`, exact: true });
  }

  /** The code on the tile of `peer`, once a connection exists. */
  code(peer: string): Locator {
    return this.page.getByLabel(`Verification code with ${peer}`);
  }

  async sendFiles(peer: string, paths: string | string[]): Promise<void> {
    await expect(this.tile(peer)).toBeEnabled();
    await this.page.getByLabel(`Files for ${peer}`).setInputFiles(paths);
  }

  /** Opens the tile's text form (its Text button) when closed, and sends `text`. */
  async sendText(peer: string, text: string): Promise<void> {
    const form = this.page.getByRole('form', { name: `Text to ${peer}` });
    if (!(await form.isVisible())) await this.page.getByRole('button', { name: `Send a text to ${peer}` }).click();
    await form.getByLabel(`Message to ${peer}`).fill(text);
    await form.getByRole('button', { name: 'Send text', exact: true }).click();
  }

  confirmCode(): Promise<void> {
    return this.page.getByRole('button', { name: 'Codes match' }).click();
  }

  /** The recipient's dialog for an offer from `sender`. */
  offer(sender: string): Locator {
    return this.page.getByRole('dialog', { name: `Files from ${sender}` });
  }

  offerCode(sender: string): Locator {
    return this.page.getByLabel(`Verification code from ${sender}`);
  }
}
