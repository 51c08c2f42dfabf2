/**
 * Safari cannot hand a ReadableStream to the service worker, and WebKit keeps the part it
 * received of a service-worker download that fails, under the real name
 * (webkit/sw-download-cut.test.ts). Where OPFS works (Safari has it), a link's file above
 * 8 MiB is therefore staged first: fetched, decrypted and verified into OPFS by a worker of
 * the page, and only then saved, served by the service worker from the verified copy
 * (receive/staging.ts); so is every file of a "Download all" above 8 MiB, whose ZIP the
 * service worker then builds from the staged copies (receive/sw-stored.ts). Imitated in Chromium: the page refuses stream transfers as Safari
 * does (support/no-stream-transfer.ts). WebKitGTK has no navigator.storage, so this path
 * runs only here.
 */
import type { BrowserContext, Download, Page, Request } from '@playwright/test';
import { SlowProxy } from './firefox/support/slow-proxy.ts';
import { expect } from './fixtures.ts';
import type { SendPage } from './pages/send-page.ts';
import { downloadBytes, downloadHash } from './support/downloads.ts';
import { MiB, type TestFile, type Workspace } from './support/files.ts';
import { withoutStreamTransfer } from './support/no-stream-transfer.ts';
import { sentByLink } from './support/sent-by-link.ts';
import { encryptedSize, flipStoredByte } from './support/tamper.ts';
import { test } from './support/throttled.ts';
import { readZip } from './support/zip.ts';

const FILE_GET = /^\/api\/shares\/[^/]+\/files\/\d+$/;
const STAGING = 'Checking in this browser first: the download starts once the whole file is verified';
const STAGED = 'Verified in this browser · the archive is saved once every file is';

test.beforeEach(async ({ receiverContext }) => {
  await receiverContext.addInitScript(withoutStreamTransfer);
});

/** Every ciphertext GET `context` makes from now on (pages, their workers, service workers). */
function ciphertextGets(context: BrowserContext): Request[] {
  const gets: Request[] = [];
  context.on('request', (request) => {
    if (request.method() === 'GET' && FILE_GET.test(new URL(request.url()).pathname)) gets.push(request);
  });
  return gets;
}

/** Names of the files staged in this origin's OPFS (the folder staging.ts uses). */
function stagedFiles(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle('ferry-staged', { create: true });
    const names: string[] = [];
    for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    return names;
  });
}

test('a 12 MiB link is staged and verified in the browser first, then saved identical', async ({
  sender,
  receiver,
  receiverContext,
  files,
  ferry,
  throttled,
}, testInfo) => {
  test.setTimeout(180_000);
  const { file, link } = await sentByLink(sender, files, 'harbour-survey-staged.bin', 12 * MiB);
  const gets = ciphertextGets(receiverContext);
  // Slow enough to see staging progress (and photograph it).
  await receiver.openShare(link.replace(ferry.url, await throttled(3 * MiB)));
  const downloads: { at: number; download: Download }[] = [];
  receiver.page.on('download', (download) => downloads.push({ at: gets.length, download }));
  await receiver.downloadButton(file.name).click();

  const row = receiver.file(file.name);
  await expect(row.getByText(STAGING)).toBeVisible();
  await receiver.waitForPercent(file.name, 30);
  expect(downloads, 'no download starts while the file is being staged').toHaveLength(0);
  await receiver.page.screenshot({ path: testInfo.outputPath('staging-1280.png') });
  await receiver.page.setViewportSize({ width: 390, height: 844 });
  await receiver.page.screenshot({ path: testInfo.outputPath('staging-390.png'), fullPage: true });
  await receiver.page.setViewportSize({ width: 1280, height: 800 });

  await expect.poll(() => downloads.length, { timeout: 60_000 }).toBe(1);
  const [{ download }] = downloads as [(typeof downloads)[0]];
  expect(download.suggestedFilename()).toBe(file.name);
  expect(await downloadHash(download), 'the saved file is byte for byte the file sent').toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
  await expect(receiver.alert).toHaveCount(0);
  expect(gets.length, 'the file was fetched').toBeGreaterThan(0);
  expect(
    gets.every((request) => request.serviceWorker() === null),
    'the ciphertext was fetched by the page’s stage worker, none by the service worker',
  ).toBe(true);
  expect(gets.length, 'nothing was fetched after the download started').toBe(downloads[0]?.at);
  // The staged copy is removed once the browser has it.
  await expect.poll(() => stagedFiles(receiver.page)).toEqual([]);
});

test('the network cut while staging: stated, no download at all, and a retry continues from what is staged', async ({
  sender,
  receiver,
  receiverContext,
  files,
  ferry,
  throttled,
}) => {
  test.setTimeout(240_000);
  const { file, link } = await sentByLink(sender, files, 'cut-recording-staged.bin', 12 * MiB);
  const gets = ciphertextGets(receiverContext);
  await receiver.openShare(link.replace(ferry.url, await throttled(2 * MiB)));
  const downloads: Download[] = [];
  receiver.page.on('download', (download) => downloads.push(download));
  await receiver.downloadButton(file.name).click();
  const at = await receiver.waitForPercent(file.name, 40);
  // The server goes away in the middle of staging; the worker tries again, then gives up.
  await ferry.kill('SIGKILL');
  expect(at, 'the server was killed in the middle of staging').toBeLessThan(80);

  const alert = receiver.alert.filter({ hasText: file.name });
  // Up to five attempts with backoff (resume.ts) before staging without a server gives up.
  await expect(alert).toBeVisible({ timeout: 90_000 });
  await expect(alert).toContainText('Nothing was saved: the download starts only once the whole file is verified.');
  await expect(alert).toContainText('Download again to continue from the');
  await expect(alert).not.toContainText('Your browser may have kept');
  await expect(receiver.file(file.name).getByText('Failed', { exact: true })).toBeVisible();
  expect(downloads, 'no download event at all: no file under any name').toHaveLength(0);
  expect(await stagedFiles(receiver.page), 'what was verified stays staged for the retry').toHaveLength(1);

  await ferry.restart();
  const before = gets.length;
  const retry = await receiver.download(file.name);
  expect(retry.suggestedFilename()).toBe(file.name);
  expect(await downloadHash(retry), 'the retry saves the file byte for byte').toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
  await expect(receiver.alert).toHaveCount(0);
  expect(downloads, 'one download in all: the retry').toHaveLength(1);
  const [first] = gets.slice(before).map((request) => request.headers().range ?? '');
  const start = Number(/^bytes=(\d+)-$/.exec(first ?? '')?.[1] ?? 0);
  expect(start, `the retry continued from what was staged (${first})`).toBeGreaterThan(0);
  await expect.poll(() => stagedFiles(receiver.page)).toEqual([]);
});

test('a file that does not fit the browser’s storage is refused before a byte is fetched, stated', async ({
  sender,
  receiver,
  receiverContext,
  files,
}) => {
  test.setTimeout(120_000);
  // The storage says 5 MB are free, as a nearly full disk would.
  await receiverContext.addInitScript(() => {
    const estimate = async () => ({ quota: 105_000_000, usage: 100_000_000 });
    Object.defineProperty(StorageManager.prototype, 'estimate', { value: estimate, configurable: true });
  });
  const { file, link } = await sentByLink(sender, files, 'too-big-for-storage.bin', 12 * MiB);
  const gets = ciphertextGets(receiverContext);
  await receiver.openShare(link);
  const downloads: Download[] = [];
  receiver.page.on('download', (download) => downloads.push(download));
  await receiver.downloadButton(file.name).click();
  const alert = receiver.alert.filter({ hasText: file.name });
  await expect(alert).toContainText('needs 12.6 MB of this browser’s storage to be checked before it is saved');
  await expect(alert).toContainText('and 5.0 MB is free');
  await expect(receiver.file(file.name).getByText('Failed', { exact: true })).toBeVisible();
  expect(downloads, 'no download started').toHaveLength(0);
  expect(gets, 'no ciphertext was fetched').toHaveLength(0);
  expect(await stagedFiles(receiver.page), 'nothing is left staged').toEqual([]);
});

test('storage that fills up while staging: stated as full, no download at all, nothing complete-looking staged', async ({
  sender,
  receiver,
  receiverContext,
  files,
  ferry,
  throttled,
}) => {
  test.setTimeout(180_000);
  const { file, link } = await sentByLink(sender, files, 'filled-disk-staged.bin', 12 * MiB);
  await receiver.openShare(link.replace(ferry.url, await throttled(2 * MiB)));
  const downloads: Download[] = [];
  receiver.page.on('download', (download) => downloads.push(download));
  await receiver.downloadButton(file.name).click();
  await receiver.waitForPercent(file.name, 20);
  // Something else takes the device's space: 1 MiB left above what the origin now uses
  // (the DevTools protocol's quota, as a full disk would be). Chromium's sync access handle
  // then writes what fits and answers 4294967288 as the count.
  const origin = new URL(receiver.page.url()).origin;
  const used = await receiver.page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  const cdp = await receiverContext.newCDPSession(receiver.page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: used + MiB });

  const alert = receiver.alert.filter({ hasText: file.name });
  await expect(alert).toBeVisible({ timeout: 90_000 });
  await expect(alert).toContainText('Nothing was saved');
  await expect(alert).toContainText('storage');
  await expect(receiver.file(file.name).getByText('Failed', { exact: true })).toBeVisible();
  await receiver.page.waitForTimeout(1000);
  expect(downloads, 'no download event at all: no file under any name').toHaveLength(0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
});

test('a tab closed while staging leaves a staged file that the next page to load removes', async ({
  sender,
  receiver,
  receiverContext,
  files,
  ferry,
  throttled,
}) => {
  test.setTimeout(180_000);
  const { file, link } = await sentByLink(sender, files, 'abandoned-staged.bin', 12 * MiB);
  const slow = link.replace(ferry.url, await throttled(2 * MiB));
  await receiver.openShare(slow);
  await receiver.downloadButton(file.name).click();
  await receiver.waitForPercent(file.name, 20);
  expect(await stagedFiles(receiver.page), 'the file is being staged').toHaveLength(1);
  await receiver.page.close();

  const next = await receiverContext.newPage();
  await next.goto(slow);
  await expect(next.getByRole('list', { name: 'Files' })).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => stagedFiles(next), { message: 'the stale staged file is removed' }).toEqual([]);
});

/** Sends two files, 12 and 6 MiB, by one link and closes the sender's tab. */
async function twoByLink(sender: SendPage, files: Workspace, prefix: string) {
  const sent = [await files.file(`${prefix}-survey.bin`, 12 * MiB), await files.file(`${prefix}-notes.bin`, 6 * MiB)];
  await sender.open();
  const link = await sender.sendFiles(sent.map((file) => file.path));
  await sender.page.close();
  return { sent, link };
}

/** Every entry of the saved ZIP is byte for byte the file of that name that was sent. */
async function expectIdenticalZip(download: Download, sent: TestFile[]): Promise<void> {
  const zip = readZip(await downloadBytes(download));
  expect(zip.map((entry) => entry.name).sort()).toEqual(sent.map((file) => file.name).sort());
  for (const entry of zip) {
    const file = sent.find((f) => f.name === entry.name);
    expect(file && entry.bytes.equals(file.bytes), `${entry.name} in the ZIP is byte for byte the file`).toBe(true);
  }
}

test('Download all of 12 + 6 MiB: every file staged and verified first, then one ZIP of identical files', async ({
  sender,
  receiver,
  receiverContext,
  files,
  ferry,
  throttled,
}, testInfo) => {
  test.setTimeout(240_000);
  const { sent, link } = await twoByLink(sender, files, 'harbour-all');
  const [first, second] = sent as [TestFile, TestFile];
  const gets = ciphertextGets(receiverContext);
  await receiver.openShare(link.replace(ferry.url, await throttled(4 * MiB)));
  const downloads: { at: number; download: Download }[] = [];
  receiver.page.on('download', (download) => downloads.push({ at: gets.length, download }));
  await receiver.downloadAllButton.click();

  await expect(receiver.file(first.name).getByText(STAGING)).toBeVisible();
  await expect(receiver.file(second.name).getByText('Waiting', { exact: true })).toBeVisible();
  // The first file is whole and verified in this browser; the second is being staged.
  await expect(receiver.file(first.name).getByText(STAGED)).toBeVisible({ timeout: 60_000 });
  await receiver.waitForPercent(second.name, 20);
  expect(downloads, 'no download starts while files are being staged').toHaveLength(0);
  expect(await stagedFiles(receiver.page), 'both files are staged, neither copied again').toHaveLength(2);
  await receiver.page.screenshot({ path: testInfo.outputPath('staging-all-1280.png') });
  await receiver.page.setViewportSize({ width: 390, height: 844 });
  await receiver.page.screenshot({ path: testInfo.outputPath('staging-all-390.png'), fullPage: true });
  await receiver.page.setViewportSize({ width: 1280, height: 800 });

  await expect.poll(() => downloads.length, { timeout: 90_000 }).toBe(1);
  const [{ download, at }] = downloads as [(typeof downloads)[0]];
  expect(download.suggestedFilename()).toBe(`ferry-${new URL(link).pathname.split('/').pop()}.zip`);
  await expectIdenticalZip(download, sent);
  for (const file of sent) await expect(receiver.verified(file.name)).toBeVisible();
  await expect(receiver.allVerified).toBeVisible();
  await expect(receiver.alert).toHaveCount(0);
  expect(
    gets.every((request) => request.serviceWorker() === null),
    'the ciphertext was fetched by the page’s stage worker, none by the service worker',
  ).toBe(true);
  expect(gets.length, 'nothing was fetched after the download started').toBe(at);
  await expect.poll(() => stagedFiles(receiver.page), { message: 'the staged copies are removed' }).toEqual([]);
});

/**
 * With a throttling proxy that can be cut as well: the kernel's socket buffers can hold the
 * rest of a 6 MiB file that the server wrote before it was killed.
 */
const withProxy = test.extend<{ cuttable: SlowProxy }>({
  cuttable: async ({ ferry }, use) => {
    const proxy = await SlowProxy.start(ferry.url);
    await use(proxy);
    await proxy.close();
  },
});

withProxy(
  'Download all, the server killed while staging: nothing saved, no download, and Download all again continues',
  async ({ sender, receiver, receiverContext, files, ferry, cuttable: proxy }) => {
    test.setTimeout(300_000);
    const { sent, link } = await twoByLink(sender, files, 'cut-all');
    const [first, second] = sent as [TestFile, TestFile];
    const gets = ciphertextGets(receiverContext);
    proxy.rate = 3 * MiB;
    await receiver.openShare(link.replace(ferry.url, proxy.url));
    const downloads: Download[] = [];
    receiver.page.on('download', (download) => downloads.push(download));
    await receiver.downloadAllButton.click();
    // The first file staged whole, the second part-way: the server goes away for good.
    await expect(receiver.file(first.name).getByText(STAGED)).toBeVisible({ timeout: 60_000 });
    const at = await receiver.waitForPercent(second.name, 30);
    await ferry.kill('SIGKILL');
    proxy.cut();
    expect(at, 'the server was killed in the middle of staging').toBeLessThan(80);

    // Up to five attempts with backoff (resume.ts) before staging without a server gives up.
    await expect(receiver.alert.filter({ hasText: second.name })).toBeVisible({ timeout: 90_000 });
    await expect(receiver.file(second.name).getByText('Failed', { exact: true })).toBeVisible();
    await expect(receiver.file(first.name).getByText('Not saved', { exact: true })).toBeVisible();
    const notice = receiver.alert.filter({ hasText: 'Nothing was saved' });
    await expect(notice).toContainText(
      'Nothing was saved: the archive’s download starts only once every file in it is verified.',
    );
    await expect(notice).toContainText('Download all again to continue from the');
    await expect(receiver.alert.filter({ hasText: 'Your browser may have kept' })).toHaveCount(0);
    expect(downloads, 'no download event at all: no archive under any name').toHaveLength(0);
    expect(await stagedFiles(receiver.page), 'what was verified stays staged for the retry').toHaveLength(2);

    await ferry.restart();
    const before = gets.length;
    const retry = await receiver.downloadAll(180_000);
    await expectIdenticalZip(retry, sent);
    for (const file of sent) await expect(receiver.verified(file.name)).toBeVisible();
    await expect(receiver.alert).toHaveCount(0);
    expect(downloads, 'one download in all: the retry').toHaveLength(1);
    const again = gets.slice(before);
    expect(
      again.every((request) => new URL(request.url()).pathname.endsWith('/1')),
      'the first file, staged whole, was not fetched again',
    ).toBe(true);
    const start = Number(/^bytes=(\d+)-$/.exec(again[0]?.headers().range ?? '')?.[1] ?? 0);
    expect(start, 'the second file continued from what was staged').toBeGreaterThan(0);
    await expect.poll(() => stagedFiles(receiver.page)).toEqual([]);
  },
);

test('Download all with a tampered second file: stated, no download at all, nothing left staged', async ({
  sender,
  receiver,
  files,
  ferry,
}) => {
  test.setTimeout(180_000);
  const { sent, link } = await twoByLink(sender, files, 'ledger-all');
  const [first, second] = sent as [TestFile, TestFile];
  await flipStoredByte(ferry.dataDir, encryptedSize(second.size));
  await receiver.openShare(link);
  const downloads: Download[] = [];
  receiver.page.on('download', (download) => downloads.push(download));
  await receiver.downloadAllButton.click();
  await expect(receiver.alert.filter({ hasText: second.name })).toContainText('failed verification', {
    timeout: 90_000,
  });
  await expect(receiver.file(second.name).getByText('Failed', { exact: true })).toBeVisible();
  // The first file verified in this browser, but the archive it was to go into was never saved.
  await expect(receiver.file(first.name).getByText('Not saved', { exact: true })).toBeVisible();
  const notice = receiver.alert.filter({ hasText: 'Nothing was saved' });
  await expect(notice).toHaveText(
    'Nothing was saved: the archive’s download starts only once every file in it is verified.',
  );
  expect(downloads, 'no download event: no archive under any name').toHaveLength(0);
  await expect.poll(() => stagedFiles(receiver.page), { message: 'nothing is left staged' }).toEqual([]);
});
