/**
 * Ferry in Firefox (Debian's firefox-esr over WebDriver BiDi) beside Chromium, both driven
 * by puppeteer-core through a throttling proxy (support/slow-proxy.ts). Firefox runs with
 * its service worker idle timeout lowered from 30 s to 3 s, so every streamed download here
 * lasts several idle timeouts: a service worker that was not kept alive would be stopped
 * mid-stream and Firefox would keep the cut file under its real name as if complete.
 *
 * Run by `npm run test:e2e` (node's test runner prints the pass and fail counts); needs
 * `npm run build` (dist/) and e2e/ensure-firefox.mjs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MiB, sha256File, Workspace } from '../support/files.ts';
import { FerryServer } from '../support/server.ts';
import { failsLeavingNothing, fileStatus, openShare, outcome, reaches, saved, sendLink } from './support/app.ts';
import { type Driven, launch } from './support/browsers.ts';
import { SlowProxy } from './support/slow-proxy.ts';

const IDLE_MS = 3_000;

let ferry: FerryServer;
let proxy: SlowProxy;
let files: Workspace;
let firefox: Driven;
let chromium: Driven;

before(async () => {
  ferry = await FerryServer.start();
  proxy = await SlowProxy.start(ferry.url);
  files = await Workspace.create();
  [firefox, chromium] = await Promise.all([launch('firefox', { serviceWorkerIdleMs: IDLE_MS }), launch('chromium')]);
});

after(async () => {
  await Promise.all([firefox?.stop(), chromium?.stop()]);
  await proxy?.close();
  await ferry?.dispose();
  await files?.dispose();
});

/** Sends `path` by link from `from` and closes the sender's tab (so the server serves the file). */
async function shareFrom(from: Driven, path: string, password?: string): Promise<string> {
  const page = await from.page();
  const link = await sendLink(page, proxy.url, [path], password);
  await page.close();
  return link;
}

/** Opens `link` in `to`, downloads `name`, and returns the page once the file verified and was saved. */
async function receive(to: Driven, link: string, name: string, size: number, password?: string): Promise<string> {
  const page = await to.page();
  await openShare(page, link, password);
  await page.locator(`::-p-aria([name=${JSON.stringify(`Download ${name}`)}][role="button"])`).click();
  const text = await outcome(page, name);
  assert.match(text, /Verified/, `${to.name} verified ${name}: "${text}"`);
  const path = await saved(to.downloads, name, size);
  await page.close();
  return path;
}

describe('Firefox and Chromium', () => {
  test('a link sent in Firefox arrives identical in Chromium', async () => {
    proxy.rate = 0;
    const file = await files.file('from-firefox.bin', 12 * MiB);
    const link = await shareFrom(firefox, file.path);
    const path = await receive(chromium, link, file.name, file.size);
    assert.equal(await sha256File(path), file.sha256);
  });

  test('a password link sent in Chromium opens in Firefox and arrives identical', async () => {
    proxy.rate = 0;
    const file = await files.file('from-chromium.bin', 12 * MiB);
    const link = await shareFrom(chromium, file.path, 'correct horse');
    const path = await receive(firefox, link, file.name, file.size, 'correct horse');
    assert.equal(await sha256File(path), file.sha256);
  });

  test('a Firefox download lasting several service worker idle timeouts arrives whole and verified', async () => {
    const file = await files.file('slow-firefox.bin', 24 * MiB);
    const link = await shareFrom(chromium, file.path);
    // 24 MiB at 2 MiB/s: about 12 s, four idle timeouts of 3 s.
    proxy.rate = 2 * MiB;
    const started = Date.now();
    const path = await receive(firefox, link, file.name, file.size);
    const seconds = (Date.now() - started) / 1000;
    proxy.rate = 0;
    assert.ok(seconds > 3 * (IDLE_MS / 1000), `the download lasted ${seconds.toFixed(1)} s, over 3 idle timeouts`);
    assert.equal(await sha256File(path), file.sha256);
  });

  for (const name of ['firefox', 'chromium'] as const) {
    test(`${name}: a download whose network is cut says it failed and leaves no complete-looking file`, async () => {
      const browser = name === 'firefox' ? firefox : chromium;
      const file = await files.file(`cut-${name}.bin`, 24 * MiB);
      const link = await shareFrom(name === 'firefox' ? chromium : firefox, file.path);
      proxy.rate = 2 * MiB;
      const page = await browser.page();
      await openShare(page, link);
      await page.locator(`::-p-aria([name=${JSON.stringify(`Download ${file.name}`)}][role="button"])`).click();
      await reaches(page, file.name, 20);
      await ferry.kill('SIGKILL');
      proxy.cut();
      try {
        await failsLeavingNothing(() => fileStatus(page, file.name), browser.downloads, file.name);
      } finally {
        proxy.rate = 0;
        await page.close();
        await ferry.restart();
      }
    });
  }

  test('the views log no CSP violation in Firefox or Chromium', async () => {
    const violations = [...firefox.problems, ...chromium.problems].filter((line) =>
      /Content[- ]Security[- ]Policy|unsafe-eval/i.test(line),
    );
    assert.deepEqual(violations, []);
  });
});
