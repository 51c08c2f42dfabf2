/**
 * The server dies (SIGKILL, no clean shutdown) at about 40 % of a large upload and comes back
 * on the same port and data directory: the upload carries on and what arrives is identical.
 */
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { throttleUploads, watchPatches } from './support/network.ts';

test('an upload survives a server crash and restart', async ({ sender, receiver, files, ferry }) => {
  test.setTimeout(240_000);
  const file = await files.file('crash-test-archive.bin', 80 * MiB);

  await sender.open();
  await throttleUploads(sender.page, 16 * MiB);
  const patches = watchPatches(sender.page);
  await sender.addFiles(file.path);
  await sender.send();

  const at = await sender.waitForProgress(40);
  await ferry.kill('SIGKILL');
  expect(at, 'the server was killed in the middle of the upload').toBeLessThan(80);
  const sentBeforeCrash = patches.offsets.length;
  await ferry.restart();

  const link = await sender.link(180_000);
  const resumedAt = patches.offsets.slice(sentBeforeCrash).find((offset) => offset > 0);
  expect(resumedAt, 'after the restart the upload resumed from a non-zero offset').toBeGreaterThan(0);

  await receiver.openShare(link);
  const download = await receiver.download(file.name);
  expect(await downloadHash(download)).toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
});
