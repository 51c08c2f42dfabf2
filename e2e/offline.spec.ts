/** The sender's network drops in the middle of an upload and comes back: the upload finishes. */
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { throttleUploads } from './support/network.ts';

test('an upload resumes after going offline and back online', async ({ sender, senderContext, receiver, files }) => {
  test.setTimeout(180_000);
  const file = await files.file('offline-trip-photos.bin', 48 * MiB);

  await sender.open();
  await throttleUploads(sender.page, 12 * MiB);
  await sender.addFiles(file.path);
  await sender.send();

  const at = await sender.waitForProgress(30);
  await senderContext.setOffline(true);
  expect(at, 'went offline in the middle of the upload').toBeLessThan(90);
  // Long enough for requests in flight to fail and for the client to notice.
  await sender.page.waitForTimeout(3_000);
  const whileOffline = await sender.percent();
  expect(whileOffline).toBeLessThan(100);
  await senderContext.setOffline(false);

  const link = await sender.link(150_000);
  await receiver.openShare(link);
  expect(await downloadHash(await receiver.download(file.name))).toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
});
