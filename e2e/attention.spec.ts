/**
 * Ferry keeps the user's attention while transfers run: notifications when something
 * finishes or arrives while Ferry is in the background (only after the user turned them
 * on, never naming a file), a screen wake lock while a transfer runs, and a stalled upload
 * that picks up again from the server's offset when Ferry comes back to the foreground.
 *
 * The page's visibility is switched by `setHidden` (see e2e/support/attention.ts: headless
 * Chromium never hides a page by itself); notifications and wake locks are the real ones,
 * recorded on their way through.
 */
import type { CDPSession, Page, Request, Route } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { NearbyPage } from './pages/nearby-page.ts';
import type { SendPage } from './pages/send-page.ts';
import {
  grantWakeLock,
  held,
  recordAttention,
  recorded,
  type ShownNotification,
  setHidden,
} from './support/attention.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { setNetworkOffline, throttleUploads } from './support/network.ts';

const NOTIFY = 'Notify me when transfers finish';
/** Bytes per second: a 24 MiB upload takes about six seconds. */
const UPLOAD_RATE = 4 * MiB;

/** Sets the page's network conditions through `session`: offline, or uploads at most `uploadThroughput` (-1: no limit). */
async function cutLink(session: CDPSession, offline: boolean, uploadThroughput = -1): Promise<void> {
  await session.send('Network.emulateNetworkConditions', {
    offline,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput,
  });
}

/**
 * The connection to the server breaks while the browser still believes it is online (a
 * Wi-Fi change, a captive portal): the request in flight dies (a moment offline, which
 * Chromium also reports to the page) and every later one to the tus endpoint fails, until
 * the answered function restores them.
 */
async function breakUploads(page: Page, session: CDPSession): Promise<() => Promise<void>> {
  const refuse = (route: Route) => route.abort('connectionreset');
  await page.route('**/files/**', refuse);
  await cutLink(session, true);
  await cutLink(session, false, UPLOAD_RATE);
  return () => page.unroute('**/files/**', refuse);
}

/** The requests `page` sends to the tus endpoint, and those that failed. */
function watchUploads(page: Page): { sent: Request[]; failed: Request[] } {
  const sent: Request[] = [];
  const failed: Request[] = [];
  const isTus = (request: Request) => new URL(request.url()).pathname.startsWith('/files/');
  page.on('request', (request) => {
    if (isTus(request)) sent.push(request);
  });
  page.on('requestfailed', (request) => {
    if (isTus(request)) failed.push(request);
  });
  return { sent, failed };
}

/**
 * The notifications `page` asked for so far, once there are `count` and Chromium answered
 * each; none may have been refused (a refusal the app papered over with a second attempt
 * would still have shown the user nothing, or two).
 */
async function notificationsOf(page: Page, count: number): Promise<ShownNotification[]> {
  let notifications: ShownNotification[] = [];
  await expect
    .poll(async () => {
      notifications = (await recorded(page)).notifications;
      return notifications.length >= count && notifications.every((entry) => entry.shown || entry.refused);
    }, `${count} notifications, each answered`)
    .toBe(true);
  expect(
    notifications.filter((entry) => entry.refused),
    'notifications Chromium refused',
  ).toEqual([]);
  return notifications;
}

/** None of `notifications` mentions any of `names` (nor a name without its extension). */
function expectNoFileNames(notifications: ShownNotification[], names: string[]): void {
  for (const { title, body } of notifications) {
    for (const name of names) {
      const stem = name.replace(/\.[^.]+$/, '');
      expect(`${title} ${body}`.toLowerCase(), `a notification names ${name}`).not.toContain(stem.toLowerCase());
    }
  }
}

/**
 * Starts a slow upload of `path` and, a quarter in, hides Ferry (the user switches apps).
 * Answers the CDP session that throttles the page.
 */
async function leaveDuringUpload(sender: SendPage, path: string): Promise<CDPSession> {
  await sender.open();
  const network = await throttleUploads(sender.page, UPLOAD_RATE);
  await sender.addFiles(path);
  await sender.send();
  expect(await sender.waitForProgress(25), 'left in the middle of the upload').toBeLessThan(100);
  await setHidden(sender.page, true);
  return network;
}

test.describe('attention', () => {
  test.describe.configure({ timeout: 180_000 });

  test('an upload and a link download notify only while Ferry is hidden, without file names', async ({
    sender,
    senderContext,
    receiver,
    receiverContext,
    files,
  }) => {
    const seen = await files.file('seen-while-visible.txt', 4000);
    const away = await files.file('quarterly-salaries.bin', 2 * MiB);
    for (const context of [senderContext, receiverContext]) {
      await context.grantPermissions(['notifications']);
      await recordAttention(context);
    }

    await sender.open();
    await sender.page.getByLabel(NOTIFY).check();
    await expect(sender.page.getByLabel(NOTIFY)).toBeChecked();
    await sender.sendFiles(seen.path);
    expect((await recorded(sender.page)).notifications, 'no notification while Ferry is visible').toEqual([]);

    await setHidden(sender.page, true);
    const link = await sender.sendFiles(away.path);
    const sent = await notificationsOf(sender.page, 1);
    expect(sent.map(({ title, visibility }) => ({ title, visibility }))).toEqual([
      { title: 'Your Ferry link is ready', visibility: 'hidden' },
    ]);

    await receiver.openShare(link);
    await receiver.page.getByLabel(NOTIFY).check();
    await setHidden(receiver.page, true);
    expect(await downloadHash(await receiver.download(away.name))).toBe(away.sha256);
    const received = await notificationsOf(receiver.page, 1);
    expect(received.map(({ title, visibility }) => ({ title, visibility }))).toEqual([
      { title: 'Download complete', visibility: 'hidden' },
    ]);
    expect(
      [...sent, ...received].every((entry) => entry.shown),
      'Chromium showed them',
    ).toBe(true);
    expectNoFileNames([...sent, ...received], [seen.name, away.name]);
  });

  test('a nearby offer and its arrival notify a hidden recipient without file names', async ({
    sender,
    receiver,
    receiverContext,
    files,
  }) => {
    const file = await files.file('p2p/medical-letter.pdf', 3 * MiB);
    await receiverContext.grantPermissions(['notifications']);
    await recordAttention(receiverContext);
    const from = new NearbyPage(sender.page);
    const to = new NearbyPage(receiver.page);
    const senderName = await from.open();
    const receiverName = await to.open();
    await receiver.page.getByLabel(NOTIFY).check();
    await setHidden(receiver.page, true);

    await from.sendFiles(receiverName, file.path);
    await expect(from.code(receiverName)).toHaveText(/^\d{6}$/, { timeout: 30_000 });
    await from.confirmCode();
    const offer = to.offer(senderName);
    await expect(offer.getByText(file.name)).toBeVisible();
    const offered = await notificationsOf(receiver.page, 1);
    expect(offered[0]).toMatchObject({ title: 'Files offered nearby', visibility: 'hidden' });
    expect(offered[0]?.body).toContain(senderName);

    const [download] = await Promise.all([
      receiver.page.waitForEvent('download', { timeout: 120_000 }),
      offer.getByRole('button', { name: 'Accept' }).click(),
    ]);
    expect(await downloadHash(download)).toBe(file.sha256);
    const all = await notificationsOf(receiver.page, 2);
    expect(all.map(({ title }) => title)).toEqual(['Files offered nearby', 'Files received']);
    expect(
      all.every((entry) => entry.shown),
      'Chromium showed them',
    ).toBe(true);
    expectNoFileNames(all, [file.name]);
  });

  test('a wake lock is held while an upload runs and released when it ends or fails', async ({
    browser,
    baseURL,
    sender,
    senderContext,
    files,
  }) => {
    const big = await files.file('wake-lock.bin', 24 * MiB);
    const doomed = await files.file('refused.bin', 2 * MiB);
    await recordAttention(senderContext);
    await grantWakeLock(browser, new URL(baseURL ?? '').origin);

    await sender.open();
    expect((await recorded(sender.page)).wakeLocks, 'no lock before anything runs').toEqual([]);
    await throttleUploads(sender.page, UPLOAD_RATE);
    await sender.addFiles(big.path);
    await sender.send();
    const at = await sender.waitForProgress(10);
    expect(at, 'still uploading').toBeLessThan(100);
    const during = (await recorded(sender.page)).wakeLocks;
    expect(held(during), 'one lock while the upload runs').toBe(1);
    expect(during[0]?.real, 'Chromium granted a real wake lock').toBe(true);
    await sender.link();
    await expect.poll(async () => held((await recorded(sender.page)).wakeLocks), 'released at the end').toBe(0);

    // The server refuses every byte of the next upload: it fails and lets the screen sleep.
    await sender.page.route('**/files/**', (route) =>
      route.request().method() === 'PATCH' ? route.fulfill({ status: 403 }) : route.fallback(),
    );
    await sender.addFiles(doomed.path);
    await sender.send();
    await expect(sender.alert.filter({ hasText: 'The server refused this upload.' })).toBeVisible({ timeout: 60_000 });
    const after = (await recorded(sender.page)).wakeLocks;
    expect(after.length, 'the failed upload took a lock of its own').toBe(2);
    await expect.poll(async () => held((await recorded(sender.page)).wakeLocks), 'released on failure').toBe(0);
  });

  test('an upload stalled in the background resumes from the server offset on return', async ({
    sender,
    senderContext,
    receiver,
    files,
  }) => {
    const file = await files.file('background-trip.bin', 24 * MiB);
    await recordAttention(senderContext);
    const uploads = watchUploads(sender.page);
    const patches = () => uploads.sent.filter((request) => request.method() === 'PATCH');

    const network = await leaveDuringUpload(sender, file.path);
    await setNetworkOffline(senderContext, network, true);
    await expect(sender.page.getByText('Reconnecting…')).toBeVisible({ timeout: 60_000 });
    const beforeReturn = patches().length;
    await setNetworkOffline(senderContext, network, false);
    await setHidden(sender.page, false);

    const link = await sender.link(150_000);
    const resumedAt = patches()
      .slice(beforeReturn)
      .map((request) => Number(request.headers()['upload-offset']));
    expect(resumedAt.length, 'PATCHed again after coming back').toBeGreaterThan(0);
    expect(resumedAt[0], 'resumed from the offset the server had').toBeGreaterThan(0);

    await receiver.openShare(link);
    expect(await downloadHash(await receiver.download(file.name))).toBe(file.sha256);
    await expect(receiver.verified(file.name)).toBeVisible();
  });

  test('when the connection drops without going offline, the return to Ferry retries at once and locks the screen again', async ({
    browser,
    baseURL,
    sender,
    senderContext,
    receiver,
    files,
  }) => {
    const file = await files.file('wifi-change.bin', 24 * MiB);
    await recordAttention(senderContext);
    await grantWakeLock(browser, new URL(baseURL ?? '').origin);
    const uploads = watchUploads(sender.page);

    const network = await leaveDuringUpload(sender, file.path);
    const hiddenLocks = (await recorded(sender.page)).wakeLocks;
    expect(hiddenLocks.length, 'one lock taken while Ferry was visible').toBe(1);
    expect(held(hiddenLocks), 'the browser released it when Ferry was hidden').toBe(0);
    const restore = await breakUploads(sender.page, network);
    // Attempts after 0, 1, 3, 5 and 10 s fail: the next one waits 20 s (RETRY_DELAYS).
    await expect.poll(() => uploads.failed.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(6);
    const failedBefore = uploads.failed.length;
    const sentBefore = uploads.sent.length;
    await restore();
    const back = Date.now();
    await setHidden(sender.page, false);
    await expect
      .poll(() => uploads.sent.length, { message: 'a request right after the return', timeout: 10_000 })
      .toBeGreaterThan(sentBefore);
    console.log(`first request ${Date.now() - back} ms after the return (the pending back-off was 20 s)`);
    expect(uploads.failed.length, 'nothing failed after the connection came back').toBe(failedBefore);
    await expect
      .poll(async () => {
        const locks = (await recorded(sender.page)).wakeLocks;
        return { taken: locks.length, held: held(locks) };
      }, 'a new lock on return while the upload runs')
      .toEqual({ taken: 2, held: 1 });

    const link = await sender.link(150_000);
    await expect.poll(async () => held((await recorded(sender.page)).wakeLocks), 'released at the end').toBe(0);
    await receiver.openShare(link);
    expect(await downloadHash(await receiver.download(file.name))).toBe(file.sha256);
  });
});
