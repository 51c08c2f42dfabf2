/**
 * Firefox (Debian's firefox-esr, over WebDriver BiDi) and Chromium (over CDP), both driven
 * by puppeteer-core: Playwright's Firefox needs its own patched build, which cannot be
 * downloaded on these machines. Each browser gets a fresh profile and its own download
 * directory; `stop()` closes it and removes both.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export type BrowserName = 'firefox' | 'chromium';

export interface Driven {
  name: BrowserName;
  browser: Browser;
  /** Where this browser saves downloads. */
  downloads: string;
  /** Console errors, page errors and CSP violations seen on any page opened with `page()`. */
  problems: string[];
  page(): Promise<Page>;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  /** Firefox only: `dom.serviceWorkers.idle_timeout` in ms (Firefox's default: 30 000). */
  serviceWorkerIdleMs?: number;
  /** Firefox only: a private window's storage rules (no OPFS). */
  private?: boolean;
}

/** Launches `name` headless with a download directory of its own. */
export async function launch(name: BrowserName, options: LaunchOptions = {}): Promise<Driven> {
  const downloads = await mkdtemp(join(tmpdir(), `ferry-${name}-downloads-`));
  const browser =
    name === 'firefox'
      ? await puppeteer.launch({
          browser: 'firefox',
          executablePath: FIREFOX_PATH,
          headless: true,
          extraPrefsFirefox: {
            'browser.download.dir': downloads,
            'browser.download.folderList': 2,
            'browser.download.useDownloadDir': true,
            'browser.download.always_ask_before_handling_new_types': false,
            'browser.helperApps.neverAsk.saveToDisk': 'application/octet-stream,application/zip',
            'browser.download.start_downloads_in_tmp_dir': false,
            ...(options.serviceWorkerIdleMs === undefined
              ? {}
              : { 'dom.serviceWorkers.idle_timeout': options.serviceWorkerIdleMs }),
            ...(options.private ? { 'browser.privatebrowsing.autostart': true } : {}),
          },
        })
      : await puppeteer.launch({
          browser: 'chrome',
          executablePath: CHROMIUM_PATH,
          headless: true,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        });
  if (name === 'chromium') {
    const session = await browser.target().createCDPSession();
    await session.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  }
  const problems: string[] = [];
  return {
    name,
    browser,
    downloads,
    problems,
    async page() {
      const page = await browser.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error' || /Content[- ]Security[- ]Policy/i.test(message.text())) {
          problems.push(`[${name}] console ${message.type()}: ${message.text()}`);
        }
      });
      page.on('pageerror', (error) => problems.push(`[${name}] pageerror: ${String(error)}`));
      // Save pickers would wait for a person; without one the app streams to its service worker.
      await page.evaluateOnNewDocument(() => {
        delete (window as unknown as Record<string, unknown>).showSaveFilePicker;
        delete (Window.prototype as unknown as Record<string, unknown>).showSaveFilePicker;
      });
      return page;
    },
    async stop() {
      await browser.close().catch(() => {});
      await rm(downloads, { recursive: true, force: true });
    },
  };
}

/** True when both browsers this suite drives are installed. */
export function browsersPresent(): boolean {
  return existsSync(FIREFOX_PATH) && existsSync(CHROMIUM_PATH);
}
