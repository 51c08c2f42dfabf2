/**
 * Safari cannot hand a ReadableStream to the service worker (DataCloneError) and has no
 * save picker. Where it cannot stage a file in OPFS either (a private window; WebKitGTK has
 * no navigator.storage), a link's file larger than the in-memory limit (8 MiB) is fetched,
 * decrypted and verified by the service worker itself while the browser saves it. This page
 * is made to refuse stream transfers as Safari does (support/no-stream-transfer.ts) and OPFS
 * as a private window does (support/no-opfs.ts); the app finds that out by trying and takes
 * the service-worker-fetch path, which these journeys drive as a user would:
 * one large file; "Download all" of files larger together than 8 MiB is refused up front
 * instead, since a ZIP cut off there would stay under its name (WebKit keeps it) and a ZIP
 * can be checked before saving only where files can be staged (sw-staged-download.spec.ts).
 */
import type { BrowserContext, Download, Request } from '@playwright/test';
import { expect } from './fixtures.ts';
import type { ReceivePage } from './pages/receive-page.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { withoutOpfs } from './support/no-opfs.ts';
import { withoutStreamTransfer } from './support/no-stream-transfer.ts';
import { sentByLink } from './support/sent-by-link.ts';
import { encryptedSize, flipStoredByte } from './support/tamper.ts';
import { test } from './support/throttled.ts';

const FILE_GET = /^\/api\/shares\/[^/]+\/files\/\d+$/;

test.beforeEach(async ({ receiverContext }) => {
  await receiverContext.addInitScript(withoutStreamTransfer);
  await receiverContext.addInitScript(withoutOpfs);
});

/** Every ciphertext GET `context` makes from now on, page's and service worker's. */
function ciphertextGets(context: BrowserContext): Request[] {
  const gets: Request[] = [];
  context.on('request', (request) => {
    if (FILE_GET.test(new URL(request.url()).pathname)) gets.push(request);
  });
  return gets;
}

function expectFromServiceWorker(gets: Request[]): void {
  expect(
    gets.every((request) => request.serviceWorker() !== null),
    'every ciphertext GET came from the service worker, none from the page',
  ).toBe(true);
}

/** Clicks Download and collects what the browser starts. */
async function startDownload(receiver: ReceivePage, name: string): Promise<Download[]> {
  const downloads: Download[] = [];
  receiver.page.on('download', (download) => downloads.push(download));
  await receiver.downloadButton(name).click();
  return downloads;
}

/** The page states the failure, the file is not Verified, and the browser's download failed. */
async function expectStatedFailure(receiver: ReceivePage, name: string, downloads: Download[]): Promise<void> {
  // Up to five attempts with backoff (resume.ts) before a download without a server gives up.
  await expect(receiver.alert.filter({ hasText: name })).toBeVisible({ timeout: 90_000 });
  await expect(receiver.file(name).getByText('Failed', { exact: true })).toBeVisible();
  await expect(receiver.verified(name)).toHaveCount(0);
  // Safari's WebKit keeps what it received of a failed service-worker download: never "not saved".
  await expect(receiver.alert.filter({ hasText: name })).toContainText(
    `Your browser may have kept the part it received as ${name}: delete it, it is not the file.`,
  );
  await expect(receiver.alert.filter({ hasText: name })).not.toContainText('not saved');
  expect(downloads.length, 'the browser had started the download').toBe(1);
  for (const download of downloads) {
    expect(await download.failure(), 'the browser marks the download failed, not complete').not.toBeNull();
  }
}

test('a 20 MiB link arrives identical and verified, fetched by the service worker, resuming a drop', async ({
  sender,
  receiver,
  receiverContext,
  files,
  ferry,
  throttled,
}) => {
  test.setTimeout(180_000);
  const { file, link } = await sentByLink(sender, files, 'harbour-survey-safari.bin', 20 * MiB);

  const gets = ciphertextGets(receiverContext);
  // Slow enough to cut the server off in the middle (the service worker's fetches too).
  await receiver.openShare(link.replace(ferry.url, await throttled(4 * MiB)));
  const download = await receiver.download(file.name);
  expect(download.suggestedFilename()).toBe(file.name);
  // A dropped connection: the server dies mid-download and comes back; the worker resumes.
  const at = await receiver.waitForPercent(file.name, 25);
  await ferry.kill('SIGKILL');
  expect(at, 'the server was killed in the middle of the download').toBeLessThan(80);
  const before = gets.length;
  await ferry.restart();
  expect(await downloadHash(download), 'the download is byte for byte the file').toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
  await expect(receiver.alert).toHaveCount(0);
  const resumed = gets.slice(before).map((request) => request.headers().range ?? '');
  expect(resumed.length, 'a GET was made after the drop').toBeGreaterThan(0);
  expect(
    resumed.some((range) => /^bytes=[1-9]\d*-$/.test(range)),
    `resumed with a Range (${resumed})`,
  ).toBe(true);
  expectFromServiceWorker(gets);
});

test('a tampered 20 MiB file fails as a stated failure and nothing complete is saved', async ({
  sender,
  receiver,
  files,
  ferry,
}) => {
  test.setTimeout(180_000);
  const { file, link } = await sentByLink(sender, files, 'tampered-ledger-safari.bin', 20 * MiB);
  await flipStoredByte(ferry.dataDir, encryptedSize(file.size));

  await receiver.openShare(link);
  const downloads = await startDownload(receiver, file.name);
  await expectStatedFailure(receiver, file.name, downloads);
  await expect(receiver.alert).toContainText('failed verification');
});

test('a download cut off for good ends as a stated failure, not a complete-looking file', async ({
  sender,
  receiver,
  files,
  ferry,
  throttled,
}) => {
  test.setTimeout(180_000);
  const { file, link } = await sentByLink(sender, files, 'cut-recording-safari.bin', 20 * MiB);
  await receiver.openShare(link.replace(ferry.url, await throttled(2 * MiB)));
  const downloads = await startDownload(receiver, file.name);
  const at = await receiver.waitForPercent(file.name, 15);
  // The server goes away for good in the middle of the download.
  await ferry.kill('SIGKILL');
  expect(at, 'the server was killed in the middle of the download').toBeLessThan(80);
  await expectStatedFailure(receiver, file.name, downloads);
});

test('Download all of 12 + 6 MiB is refused before anything is fetched: a cut ZIP would stay under its name', async ({
  sender,
  receiver,
  receiverContext,
  files,
}) => {
  test.setTimeout(120_000);
  const sent = [await files.file('ledger-survey.bin', 12 * MiB), await files.file('ledger-notes.bin', 6 * MiB)];
  await sender.open();
  const link = await sender.sendFiles(sent.map((file) => file.path));
  await sender.page.close();
  const gets = ciphertextGets(receiverContext);
  await receiver.openShare(link);
  const downloads: Download[] = [];
  receiver.page.on('download', (download) => downloads.push(download));
  await receiver.downloadAllButton.click();
  await expect(receiver.alert).toHaveText(
    "This browser can't save an archive this large; try Chrome or Edge, a window that is not private, or download the files one at a time.",
  );
  for (const file of sent) await expect(receiver.file(file.name).getByText(/Verified|Failed|%/)).toHaveCount(0);
  expect(downloads, 'no download started').toHaveLength(0);
  expect(gets, 'no ciphertext was fetched').toHaveLength(0);
  // One file at a time still works: the first one saved identical.
  const first = sent[0]!;
  expect(await downloadHash(await receiver.download(first.name))).toBe(first.sha256);
  await expect(receiver.verified(first.name)).toBeVisible();
});
