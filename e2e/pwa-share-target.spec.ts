/**
 * Another app shares files with the installed Ferry: the browser POSTs multipart form data
 * to the manifest's share_target action. Here a real form on Ferry's origin makes that same
 * navigation; the service worker stashes the files and redirects, and the send view lists
 * them, ready to send, with the shared text; the stash is gone afterwards.
 */
import { expect, test } from './fixtures.ts';
import { MiB, randomBytes } from './support/files.ts';
import { waitForServiceWorker } from './support/pwa.ts';

test('files shared from another app land in the send view, ready to send', async ({ sender }) => {
  const { page } = sender;
  await sender.open();
  await waitForServiceWorker(page);

  // The form the OS share sheet would submit (share_target: action, method, enctype, params).
  await page.evaluate(() => {
    const form = document.createElement('form');
    form.action = '/share-target';
    form.method = 'post';
    form.enctype = 'multipart/form-data';
    for (const [name, value] of [
      ['title', 'Harbour photos'],
      ['text', 'From the trip, for the album'],
    ]) {
      const input = document.createElement('input');
      input.name = name!;
      input.value = value!;
      form.append(input);
    }
    const files = document.createElement('input');
    files.type = 'file';
    files.name = 'files';
    files.multiple = true;
    form.append(files);
    form.id = 'share-sheet';
    document.body.append(form);
  });
  await page.locator('#share-sheet input[type=file]').setInputFiles([
    { name: 'harbour-dawn-s7q.jpg', mimeType: 'image/jpeg', buffer: randomBytes('harbour', 2 * MiB) },
    { name: 'crew-list-s8r.txt', mimeType: 'text/plain', buffer: Buffer.from('Ada\nGrace\n') },
  ]);
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/' && !url.search),
    page.locator('#share-sheet').evaluate((form: HTMLFormElement) => form.submit()),
  ]);

  const shared = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Shared with Ferry' }) });
  await expect(shared).toContainText('2 files added below, ready to send.');
  await expect(shared).toContainText('Harbour photos\nFrom the trip, for the album');
  await expect(sender.dropzone.getByText('harbour-dawn-s7q.jpg')).toBeVisible();
  await expect(sender.dropzone.getByText('crew-list-s8r.txt')).toBeVisible();
  await expect(sender.sendButton).toBeEnabled();
  const stashed = await page.evaluate(async () => (await (await caches.open('ferry-share-target')).keys()).length);
  expect(stashed).toBe(0);

  // The files stay readable after their stash is deleted: they upload.
  await sender.send();
  await sender.link();
});
