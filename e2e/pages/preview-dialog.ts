/** The preview of one received file (PreviewDialog.svelte), through the names in e2e/ui-contract.md. */
import { expect, type Locator, type Page } from '@playwright/test';

export class PreviewDialog {
  readonly page: Page;
  readonly name: string;
  readonly dialog: Locator;
  readonly alert: Locator;
  readonly closeButton: Locator;

  constructor(page: Page, name: string) {
    this.page = page;
    this.name = name;
    this.dialog = page.getByRole('dialog', { name: `Preview of ${name}` });
    this.alert = this.dialog.getByRole('alert');
    this.closeButton = this.dialog.getByRole('button', { name: 'Close preview' });
  }

  /** The list's "Preview <name>" button. */
  get button(): Locator {
    return this.page.getByRole('button', { name: `Preview ${this.name}`, exact: true });
  }

  /** Clicks "Preview <name>" and waits for the dialog. */
  async open(): Promise<void> {
    await this.button.click();
    await expect(this.dialog).toBeVisible();
  }

  get image(): Locator {
    return this.dialog.getByRole('img', { name: `Preview of ${this.name}` });
  }

  get video(): Locator {
    return this.dialog.getByLabel(`Video ${this.name}`);
  }

  get audio(): Locator {
    return this.dialog.getByLabel(`Audio ${this.name}`);
  }

  get text(): Locator {
    return this.dialog.getByLabel(`Text of ${this.name}`);
  }
}
