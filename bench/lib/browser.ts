/** The benchmarks' Chromium: one set of launch options, closed with the benchmark (lib/cleanup.ts). */
import { type Browser, chromium } from 'playwright-core';
import { onCleanUp } from './cleanup.ts';

export const LAUNCH = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

/** A Playwright Chromium (CDP attached), closed when the benchmark ends however it ends. */
export async function launch(downloadsPath?: string): Promise<Browser> {
  const browser = await chromium.launch({ ...LAUNCH, ...(downloadsPath && { downloadsPath }) });
  onCleanUp(() => browser.close());
  return browser;
}

/**
 * Init script: removes the File System Access picker (a headless browser cannot answer
 * it), so the app saves through its service-worker stream or a Blob, as the e2e tests do.
 */
export function withoutSavePicker(): void {
  const w = window as unknown as Record<string, unknown>;
  delete w.showSaveFilePicker;
  delete (Window.prototype as unknown as Record<string, unknown>).showSaveFilePicker;
}
