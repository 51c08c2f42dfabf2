/**
 * Offline, Ferry still opens: the service worker serves the precached shell, the send view
 * lists what this browser sent (IndexedDB), and a banner says the network is gone.
 */
import { expect, test } from './fixtures.ts';
import { waitForServiceWorker } from './support/pwa.ts';

test('offline, the app opens with its history and says it is offline', async ({ sender, senderContext, files }) => {
  const { page } = sender;
  const file = await files.file('offline-harbour-chart-k4p.bin', 64 * 1024);

  await sender.open();
  await waitForServiceWorker(page);
  const link = await sender.sendFiles(file.path);
  await expect(page.getByRole('status').filter({ hasText: 'You are offline' })).toHaveCount(0);

  await senderContext.setOffline(true);
  await page.reload();
  await expect(sender.dropzone).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'You are offline' })).toBeVisible();
  const sent = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Sent from this browser' }) });
  await expect(sent.getByRole('heading', { name: file.name })).toBeVisible();
  await expect(sent.getByLabel('Share link')).toHaveValue(link);

  await senderContext.setOffline(false);
  await expect(page.getByRole('status').filter({ hasText: 'You are offline' })).toHaveCount(0);
});
