/**
 * Someone changes one byte of a stored upload on the server's disk: the recipient is told
 * which file failed, that file is never shown as verified, and no good copy of it is saved.
 */
import type { Download } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { encryptedSize, flipStoredByte } from './support/tamper.ts';

test('a file changed on the server fails verification and is not saved', async ({ sender, receiver, files, ferry }) => {
  const intact = await files.file('intact-minutes.bin', 1 * MiB);
  const tampered = await files.file('tampered-payroll.bin', 3 * MiB + 5);
  await sender.open();
  const link = await sender.sendFiles([intact.path, tampered.path]);
  // An open sender's tab would serve the files directly, intact: the server's copy is the one tested.
  await sender.page.close();

  await flipStoredByte(ferry.dataDir, encryptedSize(tampered.size));

  await receiver.openShare(link);
  const downloads: Download[] = [];
  receiver.page.on('download', (download) => downloads.push(download));

  await receiver.downloadButton(tampered.name).click();
  await expect(receiver.alert.filter({ hasText: `${tampered.name} failed verification` })).toBeVisible({
    timeout: 60_000,
  });
  await expect(receiver.file(tampered.name).getByText('Failed', { exact: true })).toBeVisible();
  await expect(receiver.verified(tampered.name)).toHaveCount(0);
  // Whatever the browser may have started must not have completed as a file.
  await receiver.page.waitForTimeout(2_000);
  for (const download of downloads) {
    expect(await download.failure(), `${download.suggestedFilename()} must not finish`).not.toBeNull();
  }

  const good = await receiver.download(intact.name);
  expect(await downloadHash(good)).toBe(intact.sha256);
  await expect(receiver.verified(intact.name)).toBeVisible();
  await expect(receiver.allVerified).toHaveCount(0);
});
