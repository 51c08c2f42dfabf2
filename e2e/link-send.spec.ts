/**
 * The link send as people expect it: the link shows in view as soon as the share exists
 * (a recipient opening it then downloads while the upload runs), the card counts downloads
 * and says when the link is used up, a second send starts from the settings the form shows,
 * and the picker and the recipient give the same sizes.
 */
import { expect, test } from './fixtures.ts';
import { ReceivePage } from './pages/receive-page.ts';
import { downloadHash } from './support/downloads.ts';
import { KiB, MiB } from './support/files.ts';
import { throttleUploads } from './support/network.ts';

const SIZES = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
];

for (const { name, viewport } of SIZES) {
  test(`${name}: the link is in view while the upload runs, and a recipient gets the bytes`, async ({
    sender,
    senderContext,
    receiver,
    files,
  }, testInfo) => {
    test.setTimeout(180_000);
    await senderContext.grantPermissions(['clipboard-read', 'clipboard-write']);
    await sender.page.setViewportSize(viewport);
    const file = await files.file(`harbour-survey-${name}.bin`, 40 * MiB);

    await sender.open();
    // 40 MiB of ciphertext at 4 MiB/s: about 10 s of upload.
    await throttleUploads(sender.page, 4 * MiB);
    await sender.addFiles(file.path);
    await sender.send();

    const link = await sender.linkNow();
    const percent = await sender.percent();
    expect(percent, 'the upload is still running').toBeGreaterThanOrEqual(0);
    expect(percent, 'the link shows before the upload is half done').toBeLessThan(50);
    const copy = sender.page.getByRole('button', { name: 'Copy link' });
    await expect(sender.shareLink).toBeInViewport();
    await expect(copy).toBeInViewport();
    await expect(sender.page.getByRole('button', { name: 'Show QR code' })).toBeInViewport();
    await sender.page.screenshot({ path: testInfo.outputPath(`link-while-uploading-${name}.png`) });
    // The upload this page runs is its card, not also an "Unfinished upload" of itself.
    await expect(sender.page.getByRole('heading', { name: 'Unfinished uploads' })).toHaveCount(0);

    // The recipient gets the link the way a person would: Copy, then paste.
    await copy.click();
    await expect(sender.page.getByRole('status').filter({ hasText: 'Copied' })).toBeVisible();
    const copied = await sender.page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(link);
    await receiver.openShare(copied);
    await expect(
      receiver.page.getByRole('status').filter({ hasText: 'Receiving while the sender uploads' }),
    ).toBeVisible();
    expect(await sender.percent(), 'the recipient opened the link while the upload ran').toBeLessThan(100);
    const downloading = receiver.download(file.name);
    // The recipient's page shows how far, how fast and how long, and what the link has left.
    const meter = receiver.page.getByRole('progressbar', { name: `Download progress of ${file.name}` });
    await expect(meter).toBeVisible();
    await expect(receiver.file(file.name)).toContainText(/of 41\.9 MB · [\d.]+ MB\/s · /);
    await expect(receiver.page.getByText(/^41\.9 MB · expires in 23 h$/)).toBeVisible();
    const download = await downloading;
    expect(await downloadHash(download), 'byte for byte the file').toBe(file.sha256);
    await expect(receiver.verified(file.name)).toBeVisible();

    // The upload finished: the card stays in view, offers "Send more", and counts the download.
    await expect(sender.progress).toHaveCount(0, { timeout: 60_000 });
    await expect(sender.sendMoreButton).toBeInViewport();
    await expect(sender.currentCard.getByText('1 download · expires in 23 h')).toBeVisible();
    await sender.page.screenshot({ path: testInfo.outputPath(`link-sent-${name}.png`) });
  });
}

test('the card reads "1 of 2 downloads" after one download and "used up" after two', async ({
  sender,
  receiver,
  receiverContext,
  files,
}) => {
  const file = await files.file('tide-table.csv', 200 * KiB);
  await sender.open();
  const link = await sender.sendFiles(file.path, { downloadLimit: 2 });
  const card = sender.currentCard;
  await expect(card.getByText('0 of 2 downloads · expires in 23 h')).toBeVisible();

  await receiver.openShare(link);
  expect(await downloadHash(await receiver.download(file.name))).toBe(file.sha256);
  await expect(card.getByText('1 of 2 downloads · expires in 23 h')).toBeVisible();
  await expect(card.getByRole('button', { name: 'Copy link' })).toBeVisible();

  // A second visit (a new page) is a second download.
  const second = new ReceivePage(await receiverContext.newPage());
  await second.openShare(link);
  expect(await downloadHash(await second.download(file.name))).toBe(file.sha256);
  await expect(card.getByText(/^Used up: 2 of 2 downloads/)).toBeVisible();
  // Nothing that hands the link on, or extends it, is offered any more; Revoke still deletes it.
  for (const action of ['Copy link', 'Show QR code', 'Extend by 24 hours']) {
    await expect(card.getByRole('button', { name: action })).toHaveCount(0);
  }
  await expect(card.getByLabel('Share link')).toHaveCount(0);

  // Revoke asks first; "Keep the link" keeps it.
  await card.getByRole('button', { name: 'Revoke link' }).click();
  await expect(card.getByRole('button', { name: 'Keep the link' })).toBeFocused();
  await card.getByRole('button', { name: 'Keep the link' }).click();
  await expect(card.getByRole('button', { name: 'Revoke link' })).toBeFocused();
  await sender.revoke();
  await expect(card.getByText('Revoked: this link no longer works.')).toBeVisible();
});

test('a second send starts from the settings the form shows; sizes agree with the recipient', async ({
  sender,
  receiver,
  files,
}) => {
  // 2.9 MiB: Uppy's own formatter said "2.9 MB", the recipient "3.0 MB".
  const first = await files.file('chart-north.pdf', Math.round(2.9 * MiB));
  const second = await files.file('chart-south.pdf', 150 * KiB);
  const page = sender.page;
  const expiry = page.getByLabel('Expires after');
  const limit = page.getByLabel('Download limit');
  const password = page.getByLabel('Password (optional)');
  const remember = page.getByLabel(/Remember my settings/);

  await sender.open();
  await sender.addFiles(first.path);
  await expect(sender.dropzone.getByText('3.0 MB', { exact: true })).toBeVisible();
  await expect(sender.dropzone.getByText('3.0 MB', { exact: true })).toHaveCSS('text-transform', 'none');
  await sender.setOptions({ expiresAfter: 300, downloadLimit: 1, password: 'north' });
  await sender.send();
  const link = await sender.link();
  await expect(sender.currentCard.getByText(/^0 of 1 download · expires in 4 min · password protected$/)).toBeVisible();

  await receiver.open(link);
  await receiver.unlock('north');
  await expect(receiver.files).toBeVisible();
  await expect(receiver.file(first.name).getByText('3.0 MB')).toBeVisible();

  // Send more: the form shows the defaults, every field alike, and the next link uses them.
  await sender.sendMoreButton.click();
  await expect(expiry).toHaveValue('86400');
  await expect(limit).toHaveValue('');
  await expect(password).toHaveValue('');
  await expect(remember).not.toBeChecked();
  await sender.addFiles(second.path);
  await sender.send();
  await sender.link();
  await expect(sender.currentCard.getByText(/^No downloads yet · expires in 23 h$/)).toBeVisible();

  // "Remember my settings": the next send, and the next visit, start from these (never the password).
  await sender.sendMoreButton.click();
  await remember.check();
  await sender.addFiles(second.path);
  await sender.setOptions({ expiresAfter: 3600, downloadLimit: 3, password: 'south' });
  await sender.send();
  await sender.link();
  await expect(
    sender.currentCard.getByText(/^0 of 3 downloads · expires in 59 min · password protected$/),
  ).toBeVisible();
  await sender.sendMoreButton.click();
  await expect(expiry).toHaveValue('3600');
  await expect(limit).toHaveValue('3');
  await expect(password).toHaveValue('');
  await page.reload();
  await expect(expiry).toHaveValue('3600');
  await expect(limit).toHaveValue('3');
  await expect(password).toHaveValue('');
  await expect(remember).toBeChecked();
});
