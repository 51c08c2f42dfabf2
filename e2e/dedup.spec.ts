/**
 * Sending the same file again makes a new link without uploading the bytes again: the new
 * share reuses the sealed upload (ARCHITECTURE.md, "Deduplication").
 */
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { watchPatches } from './support/network.ts';

test('re-sending the same file reuses the upload', async ({ sender, receiver, files }) => {
  const file = await files.file('weekly-backup-r7q.bin', 6 * MiB);
  await sender.open();
  const first = await sender.sendFiles(file.path);

  await sender.open();
  const creations: string[] = [];
  sender.page.context().on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname.startsWith('/files')) {
      creations.push(request.url());
    }
  });
  const patches = watchPatches(sender.page);
  const second = await sender.sendFiles(file.path);
  patches.stop();

  expect(second).not.toBe(first);
  expect(patches.offsets, 'no ciphertext was uploaded again').toEqual([]);
  expect(creations, 'no new tus upload was created').toEqual([]);
  await expect(sender.page.getByText(/reused/i)).toBeVisible();

  await receiver.openShare(second);
  expect(await downloadHash(await receiver.download(file.name))).toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
});
