/** The sender's network drops in the middle of an upload and comes back: the upload finishes. */
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { setNetworkOffline, throttleUploads, watchPatches } from './support/network.ts';

test('an upload resumes after going offline and back online', async ({ sender, senderContext, receiver, files }) => {
  test.setTimeout(180_000);
  const file = await files.file('offline-trip-photos.bin', 48 * MiB);

  await sender.open();
  const network = await throttleUploads(sender.page, 12 * MiB);
  const patches = watchPatches(sender.page);
  await sender.addFiles(file.path);
  await sender.send();

  const at = await sender.waitForProgress(30);
  await setNetworkOffline(senderContext, network, true);
  expect(at, 'went offline in the middle of the upload').toBeLessThan(90);
  // Long enough for requests in flight to fail and for the client to notice; then no byte
  // moves while the network is away.
  await sender.page.waitForTimeout(3_000);
  const whileOffline = await sender.percent();
  await sender.page.waitForTimeout(3_000);
  expect(await sender.percent(), 'no progress while offline').toBe(whileOffline);
  // Offline, the card says so and drops the last speed and time left, which are stale.
  await expect(sender.page.getByRole('status').filter({ hasText: 'Reconnecting…' })).toBeVisible();
  await expect(sender.currentCard.getByText(/MB\/s|left/)).toHaveCount(0);
  expect(whileOffline).toBeLessThan(100);
  const patchesOffline = patches.offsets.length;
  await setNetworkOffline(senderContext, network, false);

  const link = await sender.link(150_000);
  const resumedAt = patches.offsets.slice(patchesOffline);
  patches.stop();
  expect(resumedAt.length, 'PATCHed again once back online').toBeGreaterThan(0);
  expect(resumedAt[0], 'continued from the server offset, not from 0').toBeGreaterThan(0);
  await receiver.openShare(link);
  expect(await downloadHash(await receiver.download(file.name))).toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
});
