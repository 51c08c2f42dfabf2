/**
 * A file received from a nearby device, larger than the in-memory limit (8 MiB), saved in a
 * browser that cannot hand a stream to its service worker (Safari; imitated here in Chromium
 * by support/no-stream-transfer.ts, as in sw-fetch-download.spec.ts): the received file sits
 * in OPFS, and the service worker reads it from there, checks its BLAKE3 and serves it as the
 * download (receive/sw-stored.ts). Before, the save was refused with a sentence.
 * WebKitGTK, the WebKit run here, has neither WebRTC nor OPFS: this path runs only here.
 */
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { offerNearby } from './support/nearby-offer.ts';
import { withoutStreamTransfer } from './support/no-stream-transfer.ts';

test('a 12 MiB file from a nearby device is saved identical, read from OPFS by the service worker', async ({
  sender,
  receiver,
  receiverContext,
  files,
}) => {
  test.setTimeout(180_000);
  await receiverContext.addInitScript(withoutStreamTransfer);
  const big = await files.file('p2p/harbour-chart.bin', 12 * MiB);
  const { offer } = await offerNearby(sender.page, receiver.page, big.path, 'harbour-chart.bin');

  const [download] = await Promise.all([
    receiver.page.waitForEvent('download', { timeout: 120_000 }),
    offer.getByRole('button', { name: 'Accept' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('harbour-chart.bin');
  expect(await downloadHash(download), 'the saved file is byte for byte the file sent').toBe(big.sha256);
  await expect(offer.getByText('Received and verified.')).toBeVisible();
  await expect(receiver.page.getByText("This browser can't stream a file this large")).toHaveCount(0);
});
