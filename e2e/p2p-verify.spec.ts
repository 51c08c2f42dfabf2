/**
 * What a nearby recipient does when the data is not what was sent, or does not fit. The
 * recipient's OPFS writer is the engine's VerifyingSink over the OPFS store
 * (client/lib/p2p/opfs-writer.worker.ts): a record changed on the way fails its file,
 * naming the file and the record, while the file verified before it is still saved; a
 * device whose storage is full says so (STORAGE_FULL) instead of saving a short file. The
 * sender hears the same sentence either way.
 */
import type { Download } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { offerNearby } from './support/nearby-offer.ts';

test.describe('nearby verification', () => {
  test.describe.configure({ timeout: 180_000 });

  test('a record changed on the way fails its file naming the record; the file before it is saved, nothing after', async ({
    sender,
    receiver,
    files,
  }) => {
    const first = await files.file('p2p/first.bin', 1 * MiB);
    const second = await files.file('p2p/second.bin', 3 * MiB);
    const { sending, offer } = await offerNearby(sender.page, receiver.page, [first.path, second.path], 'second.bin');
    await sending.flipRecord(1, 10);
    const downloads: Download[] = [];
    receiver.page.on('download', (download) => downloads.push(download));
    await offer.getByRole('button', { name: 'Accept' }).click();

    const sentence = 'second.bin: record 10 failed verification.';
    await expect(offer.getByRole('alert')).toHaveText(sentence, { timeout: 120_000 });
    await expect(sender.page.getByText(sentence)).toBeVisible();
    await expect.poll(() => downloads.length).toBe(1);
    expect(downloads[0]?.suggestedFilename()).toBe('first.bin');
    expect(await downloadHash(downloads[0]!)).toBe(first.sha256);
    await expect(offer.getByText('Received and verified.')).toHaveCount(0);
    // Nothing more is offered for saving later.
    await receiver.page.waitForTimeout(1000);
    expect(downloads.length).toBe(1);
  });

  test('a device whose storage is full says the file does not fit and saves nothing', async ({
    sender,
    receiver,
    files,
  }) => {
    const big = await files.file('p2p/holiday.mov', 12 * MiB);
    const { offer } = await offerNearby(sender.page, receiver.page, big.path, 'holiday.mov');
    // The device has 4 MiB left: its origin's quota (DevTools protocol), above what it already uses.
    const origin = new URL(receiver.page.url()).origin;
    const used = await receiver.page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    const cdp = await receiver.page.context().newCDPSession(receiver.page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: used + 4 * MiB });
    const downloads: Download[] = [];
    receiver.page.on('download', (download) => downloads.push(download));
    await offer.getByRole('button', { name: 'Accept' }).click();

    const sentence = 'holiday.mov does not fit in this device’s storage.';
    await expect(offer.getByRole('alert')).toHaveText(sentence, { timeout: 120_000 });
    await expect(sender.page.getByText(sentence)).toBeVisible();
    await receiver.page.waitForTimeout(1000);
    expect(downloads).toEqual([]);
    // What was written of it is removed again.
    await expect
      .poll(() => receiver.page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0))
      .toBeLessThanOrEqual(used + MiB);
  });
});
