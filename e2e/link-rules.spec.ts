/** What a link allows: expiry, password, revocation and a download limit, each seen by a recipient. */
import { expect, test } from './fixtures.ts';
import { expireShare, shareIdOf } from './support/clock.ts';
import { downloadHash } from './support/downloads.ts';
import { KiB } from './support/files.ts';

test('an expired link says so', async ({ sender, receiver, files, ferry }) => {
  const file = await files.file('expiring-memo.txt', 40 * KiB);
  await sender.open();
  const link = await sender.sendFiles(file.path, { expiresAfter: 300 });

  expireShare(ferry.dataDir, shareIdOf(link));
  await receiver.open(link);
  await expect(receiver.errorHeading('This link has expired')).toBeVisible();
  await expect(receiver.files).toHaveCount(0);
});

test('a password link refuses a wrong password and opens with the right one', async ({ sender, receiver, files }) => {
  const file = await files.file('locked-contract.pdf', 300 * KiB);
  await sender.open();
  const link = await sender.sendFiles(file.path, { password: 'correct horse battery staple' });

  await receiver.open(link);
  await receiver.unlock('incorrect horse');
  await expect(receiver.alert.filter({ hasText: 'Wrong password' })).toBeVisible();
  await expect(receiver.files).toHaveCount(0);

  await receiver.unlock('correct horse battery staple');
  await expect(receiver.files).toBeVisible();
  expect(await downloadHash(await receiver.download(file.name))).toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
});

test('revoke asks first: "Keep the link" keeps it working; "Revoke now" gives the recipient the revoked page', async ({
  sender,
  receiver,
  files,
}) => {
  const file = await files.file('withdrawn-offer.txt', 10 * KiB);
  await sender.open();
  const link = await sender.sendFiles(file.path);
  const card = sender.currentCard;

  // Changing one's mind in the confirmation leaves the link as it was: the recipient downloads.
  await card.getByRole('button', { name: 'Revoke link' }).click();
  await expect(card.getByRole('group')).toContainText('this cannot be undone');
  await card.getByRole('button', { name: 'Keep the link' }).click();
  await expect(card.getByRole('button', { name: 'Revoke now' })).toHaveCount(0);
  await receiver.openShare(link);
  expect(await downloadHash(await receiver.download(file.name))).toBe(file.sha256);

  await sender.revoke();
  await expect(sender.alert).toHaveCount(0);
  await expect(card.getByText('Revoked: this link no longer works.')).toBeVisible();
  // The recipient comes back to the same page (the same URL and #key: a reload).
  await receiver.page.reload();
  await expect(receiver.errorHeading('This link was revoked')).toBeVisible();
  await expect(receiver.files).toHaveCount(0);
});

test('a link with a download limit of 1 works once', async ({ sender, receiver, receiverContext, files }) => {
  const file = await files.file('one-time-key.bin', 100 * KiB);
  await sender.open();
  const link = await sender.sendFiles(file.path, { downloadLimit: 1 });

  await receiver.openShare(link);
  expect(await downloadHash(await receiver.download(file.name))).toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();

  const second = await receiverContext.newPage();
  await second.goto(link);
  await expect(second.getByRole('heading', { name: 'Download limit reached' })).toBeVisible();
});
