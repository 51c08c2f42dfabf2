/**
 * axe (WCAG 2.0/2.1 A and AA) finds no serious or critical violation on the send, receive
 * (with thumbnails) and history views, in light and dark colour schemes, at desktop size and at 360×740 —
 * including the nearby-devices section on the send view with a peer, its verification code,
 * an incoming offer and a received text, and the history's received files and a QR code.
 */
import { fileURLToPath } from 'node:url';
import { expect, test } from './fixtures.ts';
import { HistoryPage } from './pages/history-page.ts';
import { NearbyPage } from './pages/nearby-page.ts';
import { SendPage } from './pages/send-page.ts';
import { checkAllSchemesAndSizes } from './support/a11y.ts';
import { MiB } from './support/files.ts';
import { throttleUploads } from './support/network.ts';
import { encryptedSize, flipStoredByte } from './support/tamper.ts';

const IMAGE = fileURLToPath(new URL('./fixtures/preview-image.png', import.meta.url));

test('send view: empty, with files picked, and while uploading', async ({ sender, files }, testInfo) => {
  const a = await files.file('a11y-report.pdf', 40_000);
  const b = await files.file('a11y-photo.jpg', 4 * MiB);

  await sender.open();
  await checkAllSchemesAndSizes(sender.page, testInfo, 'send view, empty');

  await sender.addFiles([a.path, b.path]);
  await expect(sender.sendButton).toBeEnabled();
  await checkAllSchemesAndSizes(sender.page, testInfo, 'send view, 2 files picked');

  await throttleUploads(sender.page, 256 * 1024);
  await sender.send();
  await expect(sender.progress).toBeVisible();
  await checkAllSchemesAndSizes(sender.page, testInfo, 'send view, uploading');
});

test('history view: sent shares and an unfinished upload', async ({ sender, files }, testInfo) => {
  test.setTimeout(180_000);
  const first = await files.file('a11y-first.txt', 3000);
  const second = await files.folder('a11y-second', { 'one.txt': 100, 'two.txt': 200 });
  const slow = await files.file('a11y-slow.bin', 16 * MiB);

  await sender.open();
  await sender.sendFiles(first.path, { downloadLimit: 3, password: 'correct horse' });
  await sender.addFolder(second.path);
  await sender.send();
  await sender.link();

  // An upload cut off by a reload is listed under "Unfinished uploads".
  await throttleUploads(sender.page, 2 * MiB);
  await sender.addFiles(slow.path);
  await sender.send();
  await sender.waitForProgress(5);
  await sender.page.reload();
  await expect(sender.unfinishedItem(slow.name)).toBeVisible();
  await expect(sender.page.getByRole('heading', { name: 'Sent from this browser' })).toBeVisible();
  await checkAllSchemesAndSizes(sender.page, testInfo, 'history, sent and unfinished');

  // One revoked share among them.
  await sender.page.getByRole('button', { name: 'Revoke link' }).first().click();
  await checkAllSchemesAndSizes(sender.page, testInfo, 'history, Revoke asks first');
  await sender.page.getByRole('button', { name: 'Revoke now' }).click();
  await expect(sender.page.getByText('Revoked: this link no longer works.')).toBeVisible();
  await checkAllSchemesAndSizes(sender.page, testInfo, 'history, with a revoked share');
});

test('receive view: a share of 3 files with a thumbnail, downloaded, and the password prompt', async ({
  sender,
  receiver,
  files,
}, testInfo) => {
  const a = await files.file('a11y-receive/minutes.txt', 5000);
  const b = await files.file('a11y-receive/budget.csv', 70_000);

  await sender.open();
  const link = await sender.sendFiles([a.path, b.path, IMAGE]);
  await receiver.openShare(link);
  await expect(receiver.page.getByRole('heading', { name: '3 files' })).toBeVisible();
  // Type icons for the text files, a thumbnail for the image.
  await expect(receiver.page.getByRole('img', { name: 'Thumbnail of preview-image.png' })).toBeVisible();
  await checkAllSchemesAndSizes(receiver.page, testInfo, 'receive view, 3 files with a thumbnail');

  await receiver.download(a.name);
  await expect(receiver.verified(a.name)).toBeVisible();
  await checkAllSchemesAndSizes(receiver.page, testInfo, 'receive view, one verified');

  const locked = await sender.sendFiles(a.path, { password: 'open sesame' });
  await receiver.open(locked);
  await expect(receiver.page.getByLabel('Password', { exact: true })).toBeVisible({ timeout: 30_000 });
  await checkAllSchemesAndSizes(receiver.page, testInfo, 'receive view, password prompt');
  await receiver.unlock('wrong one');
  await expect(receiver.alert).toContainText('Wrong password');
  await checkAllSchemesAndSizes(receiver.page, testInfo, 'receive view, wrong password');

  await receiver.open('/s/AAAAAAAAAAAAAAAA#nokey');
  await expect(receiver.page.getByRole('heading').first()).toBeVisible({ timeout: 30_000 });
  await checkAllSchemesAndSizes(receiver.page, testInfo, 'receive view, error page');
});

test('send view: nearby devices with a peer, a code to confirm, an offer and a text', async ({
  sender,
  receiver,
  files,
}, testInfo) => {
  test.setTimeout(180_000);
  const small = await files.file('a11y-nearby.txt', 2000);
  const from = new NearbyPage(sender.page);
  const to = new NearbyPage(receiver.page);
  const senderName = await from.open();
  const receiverName = await to.open();
  await expect(from.tile(receiverName)).toBeVisible();
  await checkAllSchemesAndSizes(sender.page, testInfo, 'nearby, a peer');

  await from.sendFiles(receiverName, small.path);
  await expect(from.code(receiverName)).toHaveText(/^\d{6}$/, { timeout: 30_000 });
  await expect(sender.page.getByRole('button', { name: 'Codes match' })).toBeVisible();
  await checkAllSchemesAndSizes(sender.page, testInfo, 'nearby, code to confirm');
  await from.confirmCode();

  const offer = to.offer(senderName);
  await expect(offer.getByRole('button', { name: 'Accept' })).toBeVisible();
  await checkAllSchemesAndSizes(receiver.page, testInfo, 'nearby, an incoming offer');
  await offer.getByRole('button', { name: 'Decline' }).click();
  await expect(sender.page.getByText(`${receiverName} declined.`)).toBeVisible();
  await checkAllSchemesAndSizes(sender.page, testInfo, 'nearby, declined');

  // A text; the link may ask for the codes to be confirmed again first.
  await from.sendText(receiverName, 'Hello from the accessibility journey');
  const message = receiver.page.getByRole('region', { name: `Text from ${senderName}` });
  const confirm = sender.page.getByRole('button', { name: 'Codes match' });
  await expect
    .poll(async () => (await message.isVisible()) || (await confirm.isVisible()), { timeout: 30_000 })
    .toBe(true);
  if (await confirm.isVisible()) await confirm.click();
  await expect(message).toBeVisible();
  await checkAllSchemesAndSizes(receiver.page, testInfo, 'nearby, a received text');
});

test('history view: received files, verified and failed, and an open QR code', async ({
  sender,
  receiver,
  files,
  ferry,
}, testInfo) => {
  test.setTimeout(180_000);
  const good = await files.file('a11y-history/received-minutes.txt', 4000);
  const bad = await files.file('a11y-history/received-ledger.bin', 200_000);
  await sender.open();
  const link = await sender.sendFiles([good.path, bad.path]);
  // An open sender's tab would serve the files directly, intact: the server's copy is the one tested.
  await sender.page.close();
  await flipStoredByte(ferry.dataDir, encryptedSize(bad.size));
  await receiver.openShare(link);
  await receiver.download(good.name);
  await receiver.downloadButton(bad.name).click();
  await expect(receiver.alert.filter({ hasText: `${bad.name} failed verification` })).toBeVisible({ timeout: 60_000 });

  // The same browser also sent a share, whose QR code is open.
  const own = new SendPage(receiver.page);
  const history = new HistoryPage(receiver.page);
  await history.waitForReceived(2);
  await own.open();
  await own.sendFiles(good.path);
  await expect(await history.showQrCode(good.name)).toBeVisible();
  await expect(history.receivedFile(bad.name).getByText('Failed', { exact: true })).toBeVisible();
  await expect(history.receivedFile(good.name).getByText('Verified', { exact: true })).toBeVisible();
  await checkAllSchemesAndSizes(receiver.page, testInfo, 'history, received files and a QR code');
});
