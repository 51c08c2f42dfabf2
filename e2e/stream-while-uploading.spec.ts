/**
 * Download while uploading: the receiver opens the link while the sender's upload is still
 * running (throttled to take about 10 s), starts the download at once, receives ciphertext
 * before the upload has finished, and ends with the identical file, shown Verified only
 * after the upload (and so the final manifest with its hash) is done.
 */
import type { Response } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { shareIdOf } from './support/clock.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { throttleUploads } from './support/network.ts';

async function shareState(base: string, id: string): Promise<string> {
  const response = await fetch(`${base}/api/shares/${id}`);
  return ((await response.json()) as { state?: string }).state ?? '';
}

test('the receiver downloads while the sender is still uploading', async ({
  sender,
  receiver,
  receiverContext,
  files,
  ferry,
}) => {
  test.setTimeout(180_000);
  const file = await files.file('live-capture.bin', 40 * MiB);

  await sender.open();
  // 40 MiB of ciphertext at 4 MiB/s: about 10 s of upload.
  await throttleUploads(sender.page, 4 * MiB);
  await sender.addFiles(file.path);
  await sender.send();
  // The link shows as soon as the share exists, while the upload runs.
  const link = await sender.linkNow();
  const id = shareIdOf(link);

  // Pieces of ciphertext served while the upload ran carry an unknown total (`/*`).
  const partial: Array<{ at: number; range: string }> = [];
  const onResponse = (response: Response): void => {
    if (!/^\/api\/shares\/[^/]+\/files\/\d+$/.test(new URL(response.url()).pathname)) return;
    const range = response.headers()['content-range'] ?? '';
    if (response.request().method() === 'GET' && range.endsWith('/*')) partial.push({ at: Date.now(), range });
  };
  receiverContext.on('response', onResponse);

  await receiver.openShare(link);
  expect(await shareState(ferry.url, id), 'the share is still uploading when the receiver opens it').toBe('uploading');
  await expect(
    receiver.page.getByRole('status').filter({ hasText: 'Receiving while the sender uploads' }),
  ).toBeVisible();
  const clickedAt = Date.now();
  const download = await receiver.download(file.name);

  // Watch for the moment the upload is done (the share turns ready).
  let readyAt = 0;
  await expect
    .poll(
      async () => {
        if ((await shareState(ferry.url, id)) === 'ready') readyAt ||= Date.now();
        return readyAt;
      },
      { timeout: 120_000, intervals: [100], message: 'the sender finishes the upload' },
    )
    .toBeGreaterThan(0);

  expect(await downloadHash(download), 'the download is byte for byte the file').toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
  receiverContext.off('response', onResponse);

  expect(partial.length, 'ciphertext was served while the upload ran').toBeGreaterThan(0);
  const first = partial[0]!;
  expect(first.at, 'the first ciphertext bytes reached the receiver before the upload finished').toBeLessThan(readyAt);
  test.info().annotations.push({
    type: 'stream-while-uploading',
    description: `first bytes ${first.at - clickedAt} ms after the click (${first.range}); upload done ${
      readyAt - clickedAt
    } ms after the click; ${partial.length} partial pieces`,
  });
  await expect
    .poll(
      async () => ((await (await fetch(`${ferry.url}/api/shares/${id}`)).json()) as { downloads?: number }).downloads,
    )
    .toBe(1);
});
