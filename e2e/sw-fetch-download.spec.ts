/**
 * Safari cannot hand a ReadableStream to the service worker (DataCloneError) and has no
 * save picker. Where it cannot stage a file in OPFS either (a private window; WebKitGTK has
 * no navigator.storage), a link's file larger than the in-memory limit (8 MiB) is fetched,
 * decrypted and verified by the service worker itself while the browser saves it. This page
 * is made to refuse stream transfers as Safari does (support/no-stream-transfer.ts) and OPFS
 * as a private window does (support/no-opfs.ts); the app finds that out by trying and takes
 * the service-worker-fetch path, which these journeys drive as a user would:
 * one large file, and "Download all" of files larger together than 8 MiB, which the service
 * worker then fetches one by one and streams as one ZIP.
 */
import type { BrowserContext, Download, Request } from '@playwright/test';
import { expect } from './fixtures.ts';
import type { ReceivePage } from './pages/receive-page.ts';
import type { SendPage } from './pages/send-page.ts';
import { downloadBytes, downloadHash } from './support/downloads.ts';
import { MiB, type Workspace } from './support/files.ts';
import { withoutOpfs } from './support/no-opfs.ts';
import { withoutStreamTransfer } from './support/no-stream-transfer.ts';
import { sentByLink } from './support/sent-by-link.ts';
import { encryptedSize, flipStoredByte } from './support/tamper.ts';
import { test } from './support/throttled.ts';
import { readZip } from './support/zip.ts';

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

/** Sends two files, 12 and 6 MiB, by one link and closes the sender's tab. */
async function twoByLink(sender: SendPage, files: Workspace, prefix: string) {
  const sent = [await files.file(`${prefix}-survey.bin`, 12 * MiB), await files.file(`${prefix}-notes.bin`, 6 * MiB)];
  await sender.open();
  const link = await sender.sendFiles(sent.map((file) => file.path));
  await sender.page.close();
  return { sent, link };
}

test('Download all of 18 MiB arrives as one ZIP of identical files, built by the service worker', async ({
  sender,
  receiver,
  receiverContext,
  files,
}) => {
  test.setTimeout(180_000);
  const { sent, link } = await twoByLink(sender, files, 'harbour');
  const gets = ciphertextGets(receiverContext);
  await receiver.openShare(link);
  const zip = readZip(await downloadBytes(await receiver.downloadAll()));
  expect(zip.map((entry) => entry.name).sort()).toEqual(sent.map((file) => file.name).sort());
  for (const entry of zip) {
    const file = sent.find((f) => f.name === entry.name)!;
    expect(entry.bytes.equals(file.bytes), `${entry.name} in the ZIP is byte for byte the file`).toBe(true);
  }
  for (const file of sent) await expect(receiver.verified(file.name)).toBeVisible();
  await expect(receiver.allVerified).toBeVisible();
  await expect(receiver.alert).toHaveCount(0);
  expect(gets.length, 'both files were fetched').toBeGreaterThanOrEqual(2);
  expectFromServiceWorker(gets);
});

test('Download all with a tampered second file fails, stated, and the archive is not saved', async ({
  sender,
  receiver,
  files,
  ferry,
}) => {
  test.setTimeout(180_000);
  const { sent, link } = await twoByLink(sender, files, 'ledger');
  const [first, second] = sent as [(typeof sent)[0], (typeof sent)[0]];
  await flipStoredByte(ferry.dataDir, encryptedSize(second.size));

  await receiver.openShare(link);
  const downloads: Download[] = [];
  receiver.page.on('download', (download) => downloads.push(download));
  await receiver.downloadAllButton.click();
  await expect(receiver.alert.filter({ hasText: second.name })).toContainText('failed verification', {
    timeout: 90_000,
  });
  await expect(receiver.file(second.name).getByText('Failed', { exact: true })).toBeVisible();
  // The first file verified, but inside an archive that was not completed.
  await expect(receiver.file(first.name).getByText('Not saved', { exact: true })).toBeVisible();
  const archive = `ferry-${new URL(link).pathname.split('/').pop()}.zip`;
  await expect(receiver.alert.filter({ hasText: 'The archive was not saved.' })).toContainText(
    `Your browser may have kept the part it received as ${archive}: delete it, it is not the archive.`,
  );
  expect(downloads.length, 'the browser had started the download').toBe(1);
  for (const download of downloads) {
    expect(await download.failure(), 'the browser marks the archive failed, not complete').not.toBeNull();
  }
});
