/**
 * The sender reloads the page in the middle of an upload: the upload is listed under
 * "Unfinished uploads", and Resume (choosing the file again if the browser kept no handle
 * to it) finishes it from where it stopped.
 */
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { throttleUploads, watchPatches } from './support/network.ts';

test('an upload interrupted by a reload is resumed from "Unfinished uploads"', async ({ sender, receiver, files }) => {
  test.setTimeout(180_000);
  const file = await files.file('reload-survey-results.bin', 48 * MiB);

  await sender.open();
  await throttleUploads(sender.page, 12 * MiB);
  await sender.addFiles(file.path);
  await sender.send();
  await sender.waitForProgress(30);

  await sender.page.reload();
  await expect(sender.page.getByRole('heading', { name: 'Unfinished uploads' })).toBeVisible();
  await expect(sender.unfinishedItem(file.name)).toBeVisible();

  const patches = watchPatches(sender.page);
  await sender.resume(file.name, file.path);
  const link = await sender.link(150_000);
  expect(patches.offsets.length, 'Resume sent the rest of the file').toBeGreaterThan(0);
  expect(patches.offsets[0], 'Resume started where the upload stopped, not at 0').toBeGreaterThan(0);
  await expect(sender.unfinishedItem(file.name)).toHaveCount(0);

  await receiver.openShare(link);
  expect(await downloadHash(await receiver.download(file.name))).toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
});
