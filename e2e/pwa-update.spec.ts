/**
 * A new release while Ferry is open: its service worker installs beside the running one and
 * waits; the page says a new version is ready, and only the person's "Reload" activates it
 * and reloads the page under it. The server serves a copy of the built app, so the test can
 * publish a "next release" by changing that copy's service worker script.
 */
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from './fixtures.ts';
import { waitForServiceWorker } from './support/pwa.ts';

const built = process.env.FERRY_DIST_DIR ?? fileURLToPath(new URL('../dist', import.meta.url));
const release = mkdtempSync(join(tmpdir(), 'ferry-e2e-release-'));
cpSync(built, release, { recursive: true });
test.use({ ferryEnv: { FERRY_DIST_DIR: release } });
test.afterAll(() => rmSync(release, { recursive: true, force: true }));

test('a new version waits until the person chooses Reload, then takes over', async ({ sender }) => {
  const { page } = sender;
  await sender.open();
  await waitForServiceWorker(page);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  const prompt = page.getByRole('status').filter({ hasText: 'A new version of Ferry is ready' });
  await expect(prompt).toHaveCount(0);

  // The next release: the worker script differs by a byte, so the browser installs it.
  appendFileSync(join(release, 'service-worker.js'), '\n// next release\n');
  await page.evaluate(async () => {
    await (await navigator.serviceWorker.getRegistration())?.update();
  });
  await expect(prompt).toBeVisible();
  // Nothing takes over on its own: the old worker still controls the page, the new one waits.
  expect(
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return { waiting: registration?.waiting?.state ?? null, active: registration?.active?.state ?? null };
    }),
  ).toEqual({ waiting: 'installed', active: 'activated' });

  await page.evaluate(() => {
    (window as unknown as { ferryE2eMarker?: boolean }).ferryE2eMarker = true;
  });
  await Promise.all([page.waitForEvent('load'), prompt.getByRole('button', { name: 'Reload' }).click()]);
  // A new document (the marker is gone), controlled by the new worker, with no prompt left.
  expect(await page.evaluate(() => (window as unknown as { ferryE2eMarker?: boolean }).ferryE2eMarker)).toBeUndefined();
  await expect(sender.dropzone).toBeVisible();
  await expect(prompt).toHaveCount(0);
  expect(
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return { waiting: registration?.waiting ?? null, controlled: navigator.serviceWorker.controller !== null };
    }),
  ).toEqual({ waiting: null, controlled: true });
});
