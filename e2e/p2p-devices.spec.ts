/**
 * Devices as people expect them (issue 10, defects 1 and 3): two devices on one network
 * pair (the usual case: both are also nearby), and each then shows one tile for the other,
 * under the name that device keeps across reloads and renames; files to the paired device
 * need no code, and files to it while its Ferry is closed arrive once it opens Ferry. An
 * offer is a modal dialog that takes focus, even on a phone scrolled to the top.
 */
import { expect, test } from './fixtures.ts';
import { PairingPage } from './pages/pairing-page.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { pair } from './support/pairing.ts';

test.describe('devices', () => {
  test.describe.configure({ timeout: 240_000 });

  test('paired on one network: one tile per device on both sides, names kept after a reload, a rename seen by the other side, files with no code', async ({
    sender,
    receiver,
    files,
  }) => {
    const doc = await files.file('devices/plan.pdf', 2 * MiB);
    const from = new PairingPage(sender.page);
    const to = new PairingPage(receiver.page);
    const senderName = await from.open();
    const receiverName = await to.open();
    await expect(from.tile(receiverName)).toBeVisible();
    await pair(from, to);

    // One tile each, the nearby device itself, marked paired (never a second, "offline" one).
    for (const [side, other] of [
      [from, receiverName],
      [to, senderName],
    ] as const) {
      await expect(side.section.getByRole('listitem')).toHaveCount(1);
      await expect(side.tileItem(other)).toContainText('Paired');
      await expect(side.section.getByText('Paired · offline')).toHaveCount(0);
    }

    // Right after pairing, over the pairing's own connection: the codes were compared once.
    await from.sendFiles(receiverName, doc.path);
    const offer = to.offer(senderName);
    await expect(offer.getByText('plan.pdf')).toBeVisible({ timeout: 30_000 });
    await expect(to.offerCode(senderName)).toHaveCount(0);
    await expect(sender.page.getByRole('button', { name: 'Codes match' })).toHaveCount(0);
    const [download] = await Promise.all([
      receiver.page.waitForEvent('download', { timeout: 120_000 }),
      offer.getByRole('button', { name: 'Accept' }).click(),
    ]);
    expect(await downloadHash(download)).toBe(doc.sha256);

    // Each device keeps its name: after a reload both are called as before, still one tile each.
    expect(await from.open()).toBe(senderName);
    expect(await to.open()).toBe(receiverName);
    await expect(from.tileItem(receiverName)).toContainText('Paired', { timeout: 30_000 });
    await expect(to.tileItem(senderName)).toContainText('Paired', { timeout: 30_000 });
    await expect(from.section.getByRole('listitem')).toHaveCount(1);
    await expect(to.section.getByRole('listitem')).toHaveCount(1);

    // A rename is seen by the other side at once, and kept.
    await to.section.getByRole('button', { name: 'Rename this device' }).click();
    await to.section.getByLabel('Name of this device').fill('   ');
    await to.section.getByRole('button', { name: 'Save name' }).click();
    const nameField = to.section.getByLabel('Name of this device');
    await expect(to.section.getByRole('alert')).toContainText('A device name is 1 to 64 characters');
    await expect(nameField).toHaveAttribute('aria-invalid', 'true');
    await nameField.fill('Kitchen tablet');
    await to.section.getByRole('button', { name: 'Save name' }).click();
    await expect(to.section.getByText('This device appears as')).toContainText('Kitchen tablet');
    await expect(from.tileItem('Kitchen tablet')).toContainText('Paired', { timeout: 30_000 });
    await expect(from.tile(receiverName)).toHaveCount(0);
    expect(await to.open()).toBe('Kitchen tablet');
    // The sender's page, opened again, remembers the new name too.
    await receiver.page.goto('about:blank');
    await from.open();
    await expect(from.tileItem('Kitchen tablet')).toContainText('Paired · offline', { timeout: 30_000 });
  });

  test('paired by link on one network: a send to the device while its Ferry is closed arrives once it opens Ferry', async ({
    sender,
    receiver,
    files,
  }) => {
    const doc = await files.file('devices/photos.zip', 3 * MiB);
    const from = new PairingPage(sender.page);
    const to = new PairingPage(receiver.page);
    const senderName = await from.open();
    const receiverName = await to.open();
    await pair(from, to, 'link');
    await expect(from.section.getByRole('listitem')).toHaveCount(1);

    await receiver.page.close();
    const tile = from.tileItem(receiverName);
    await expect(tile).toContainText('Paired · offline', { timeout: 30_000 });
    await expect(from.section.getByRole('listitem')).toHaveCount(1);
    await from.sendFiles(receiverName, doc.path);
    await expect(tile.getByText(`Sent to ${receiverName} through the server, end-to-end encrypted.`)).toBeVisible({
      timeout: 60_000,
    });
    await expect(tile.getByRole('alert')).toHaveCount(0);

    const page = await receiver.page.context().newPage();
    const again = new PairingPage(page);
    expect(await again.open()).toBe(receiverName);
    const offer = again.offer(senderName);
    await expect(offer.getByText('photos.zip')).toBeVisible({ timeout: 60_000 });
    const download = page.waitForEvent('download', { timeout: 150_000 });
    await offer.getByRole('button', { name: 'Accept' }).click();
    expect(await downloadHash(await download)).toBe(doc.sha256);
    await expect(sender.page.getByText('accepted and received the files.')).toBeVisible({ timeout: 60_000 });
    await expect(from.section.getByRole('listitem')).toHaveCount(1);
  });

  test('an offer opens a focused modal dialog on a phone scrolled to the top, names the sender in the tab title, and the code is compared once per connection', async ({
    sender,
    receiver,
    files,
  }) => {
    const doc = await files.file('devices/ticket.pdf', 1 * MiB);
    await receiver.page.setViewportSize({ width: 390, height: 844 });
    const from = new PairingPage(sender.page);
    const to = new PairingPage(receiver.page);
    const senderName = await from.open();
    const receiverName = await to.open();
    await receiver.page.evaluate(() => window.scrollTo(0, 0));
    const ownTitle = await receiver.page.title();

    await from.sendFiles(receiverName, doc.path);
    await expect(from.code(receiverName)).toHaveText(/^\d{6}$/, { timeout: 30_000 });
    await from.confirmCode();

    const offer = to.offer(senderName);
    await expect(offer).toBeInViewport({ ratio: 1, timeout: 30_000 });
    expect(await offer.evaluate((dialog) => dialog.matches(':modal'))).toBe(true);
    await expect(offer.getByRole('heading', { name: `Files from ${senderName}` })).toBeFocused();
    await expect(receiver.page).toHaveTitle(`Files from ${senderName} · Ferry`);
    // Keyboard: the first Tab reaches the offer's own buttons, never the page behind it.
    await receiver.page.keyboard.press('Tab');
    await expect(offer.getByRole('button', { name: 'Accept' })).toBeFocused();

    const [download] = await Promise.all([
      receiver.page.waitForEvent('download', { timeout: 120_000 }),
      offer.getByRole('button', { name: 'Accept' }).click(),
    ]);
    expect(await downloadHash(download)).toBe(doc.sha256);
    await expect(offer.getByText('Received and verified.')).toBeVisible();
    expect(await offer.evaluate((dialog) => dialog.matches(':modal'))).toBe(false);
    await expect(receiver.page).toHaveTitle(ownTitle);
    // Closed, it leaves the section.
    await offer.getByRole('button', { name: 'Close' }).click();
    await expect(offer).toHaveCount(0);

    // A second offer over the same connection: the code was compared once, so none is asked for.
    await from.sendFiles(receiverName, doc.path);
    const second = to.offer(senderName);
    await expect(second.getByRole('button', { name: 'Accept' })).toBeVisible({ timeout: 30_000 });
    await expect(to.offerCode(senderName)).toHaveCount(0);
    await expect(sender.page.getByRole('button', { name: 'Codes match' })).toHaveCount(0);
    // Escape puts it aside: no longer over the page, still waiting in the section.
    await receiver.page.keyboard.press('Escape');
    await expect.poll(() => second.evaluate((dialog) => dialog.matches(':modal'))).toBe(false);
    await expect(second.getByRole('button', { name: 'Decline' })).toBeVisible();
    await second.getByRole('button', { name: 'Decline' }).click();
    await expect(receiver.page).toHaveTitle(ownTitle);
    await expect(from.tileItem(receiverName).getByRole('alert')).toHaveText(`${receiverName} declined.`);
  });
});
