/**
 * A server whose disk has no room for the upload (here: a free-space reserve larger than
 * any disk, FERRY_MIN_FREE_BYTES) refuses it with 507 STORAGE_FULL before a byte is stored;
 * the sender reads one clear sentence after a few quick retries, not half an hour of them.
 */
import { expect, test } from './fixtures.ts';
import { MiB } from './support/files.ts';

test.use({ ferryEnv: { FERRY_MIN_FREE_BYTES: String(10 ** 15) } });

test('a send to a server out of space says so and stops retrying', async ({ sender, files }) => {
  const file = await files.file('quarterly-figures-s7k.bin', MiB);
  await sender.open();
  await sender.addFiles(file.path);
  await sender.send();
  // STORAGE_FULL_RETRIES (5) attempts take about 20 s of back-off; a loaded machine is slower.
  await expect(sender.alert.filter({ hasText: 'The server is out of space; try again later.' })).toBeVisible({
    timeout: 90_000,
  });
  for (const width of [390, 1280]) {
    await sender.page.setViewportSize({ width, height: 900 });
    await sender.page.screenshot({ path: test.info().outputPath(`storage-full-${width}.png`), fullPage: true });
  }
});
