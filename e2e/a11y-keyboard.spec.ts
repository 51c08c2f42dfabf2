/**
 * Keyboard alone, at 360×740: a whole send (pick files, set the link, Send, Copy link, Show QR code,
 * Revoke) and a whole receive (wrong then right password, Download a file). Focus is visible
 * at every stop, lands on the result after Send, stays on the password after a wrong one,
 * and no view scrolls sideways. The OS file dialog cannot be driven, so its file chooser is
 * answered by Playwright once Enter has opened it from the focused "Choose files" button.
 * Chromium's `showOpenFilePicker` (which "Choose files" prefers, for resumable handles)
 * opens a dialog Playwright cannot answer; the sender's page goes without it, as Firefox
 * and Safari do, and "Choose files" opens the file input's chooser.
 */
import { expect, test } from './fixtures.ts';
import { expectNoHorizontalScroll, NARROW } from './support/a11y.ts';
import { KiB } from './support/files.ts';
import { expectVisibleFocus, openFileChooserByKeyboard, tabTo } from './support/keyboard.ts';

test.use({ viewport: NARROW });

test('a whole send by keyboard', async ({ sender, senderContext, files }) => {
  await senderContext.grantPermissions(['clipboard-read', 'clipboard-write']);
  const a = await files.file('keyboard-agenda.txt', 3 * KiB);
  const b = await files.file('keyboard-slides.pdf', 90 * KiB);
  const page = sender.page;
  await page.addInitScript(() => {
    delete (window as unknown as Record<string, unknown>).showOpenFilePicker;
    delete (Window.prototype as unknown as Record<string, unknown>).showOpenFilePicker;
  });

  await sender.open();
  await expectNoHorizontalScroll(page, 'send view');
  const browse = sender.dropzone.getByRole('button', { name: 'Choose files', exact: true });
  const chooser = await openFileChooserByKeyboard(page, browse);
  await chooser.setFiles([a.path, b.path]);
  await expect(sender.sendButton).toBeEnabled();
  await expectNoHorizontalScroll(page, 'send view, 2 files');

  const expiry = page.getByLabel('Expires after');
  await tabTo(page, expiry);
  const before = await expiry.inputValue();
  await page.keyboard.press('ArrowDown');
  await expect(expiry).not.toHaveValue(before);
  await tabTo(page, page.getByLabel('Download limit'));
  await page.keyboard.type('3');
  await tabTo(page, page.getByLabel('Password (optional)'));
  await page.keyboard.type('keyboard only');
  await tabTo(page, sender.sendButton);
  await page.keyboard.press('Enter');

  // Focus goes to the result: the new link's title, the first thing after it being the link.
  const link = await sender.link();
  const title = page.getByRole('heading', { name: '2 files', level: 3 });
  await expect(title).toBeFocused();
  await expectNoHorizontalScroll(page, 'send view, sent');

  const copy = page.getByRole('button', { name: 'Copy link' });
  await tabTo(page, copy);
  await tabTo(page, sender.shareLink, { back: true });
  await expect(sender.shareLink).toHaveValue(link);
  await tabTo(page, copy);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);

  // The QR code opens from the keyboard and fits the narrow screen.
  await tabTo(page, page.getByRole('button', { name: 'Show QR code' }));
  await page.keyboard.press('Enter');
  await expect(page.getByRole('img', { name: 'QR code of the share link for 2 files' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Hide QR code' })).toBeFocused();
  await expectNoHorizontalScroll(page, 'send view, QR code open');

  // Revoke asks first, with focus on the answer that keeps the link.
  await tabTo(page, page.getByRole('button', { name: 'Revoke link' }));
  await page.keyboard.press('Space');
  await expect(page.getByRole('button', { name: 'Keep the link' })).toBeFocused();
  await expectVisibleFocus(page);
  await tabTo(page, page.getByRole('button', { name: 'Revoke now' }), { back: true });
  await page.keyboard.press('Space');
  await expect(page.getByText('Revoked: this link no longer works.')).toBeVisible();
  // The button is gone; focus is on the card's title, not lost on the page.
  await expect(title).toBeFocused();
  await expectVisibleFocus(page);
  await expectNoHorizontalScroll(page, 'send view, revoked');
});

test('a whole receive by keyboard', async ({ sender, receiver, files }) => {
  const a = await files.file('keyboard-receive/minutes.txt', 4 * KiB);
  const b = await files.file('keyboard-receive/budget.csv', 60 * KiB);
  const link = await (async () => {
    await sender.open();
    return sender.sendFiles([a.path, b.path], { password: 'tab and enter' });
  })();
  const page = receiver.page;

  await receiver.open(link);
  const password = page.getByLabel('Password', { exact: true });
  await expect(password).toBeVisible({ timeout: 30_000 });
  await expectNoHorizontalScroll(page, 'receive view, password');
  await tabTo(page, password);
  await page.keyboard.type('wrong guess');
  await page.keyboard.press('Enter');
  await expect(receiver.alert).toContainText('Wrong password');
  // After the error, focus is still in the password, which the error describes.
  await expect(password).toBeFocused();
  await expect(password).toHaveAccessibleDescription(/Wrong password/);
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('tab and enter');
  await page.keyboard.press('Enter');

  await expect(receiver.files).toBeVisible({ timeout: 30_000 });
  await expectNoHorizontalScroll(page, 'receive view, files');
  await tabTo(page, receiver.downloadButton(b.name));
  await tabTo(page, receiver.downloadButton(a.name), { back: true });
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  expect(await download.failure()).toBeNull();
  await expect(receiver.verified(a.name)).toBeVisible();
  await expect(receiver.downloadButton(a.name)).toBeFocused();
  await expectNoHorizontalScroll(page, 'receive view, downloaded');
});
