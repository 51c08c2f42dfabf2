/**
 * Ferry is an installable app: its manifest is served and complete, its icons load at the
 * sizes it claims, a service worker controls the page, and Chromium itself finds nothing
 * that stops installing it (DevTools protocol: Page.getInstallabilityErrors).
 *
 * Chromium never offers to install from an incognito profile, and Playwright's contexts
 * are incognito, so this journey runs in a persistent context with a throwaway profile.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from './fixtures.ts';
import { SendPage } from './pages/send-page.ts';
import { pngSize, waitForServiceWorker } from './support/pwa.ts';

interface ManifestIcon {
  src: string;
  sizes: string;
  type: string;
  purpose?: string;
}

test('the manifest is complete and Chromium can install Ferry', async ({ ferry, browser, launchOptions, headless }) => {
  const profile = await mkdtemp(join(tmpdir(), 'ferry-e2e-profile-'));
  const context = await browser.browserType().launchPersistentContext(profile, {
    ...launchOptions,
    headless,
    baseURL: ferry.url,
  });
  try {
    await checkInstallable(new SendPage(context.pages()[0] ?? (await context.newPage())));
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
});

async function checkInstallable(sender: SendPage): Promise<void> {
  const { page } = sender;
  await sender.open();
  await waitForServiceWorker(page);

  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  expect(href).toBe('/manifest.webmanifest');
  const response = await page.request.get(href!);
  expect(response.ok()).toBe(true);
  expect(response.headers()['content-type']).toContain('application/manifest+json');
  const manifest = (await response.json()) as Record<string, unknown> & { icons: ManifestIcon[] };
  expect(manifest).toMatchObject({
    name: 'Ferry',
    short_name: 'Ferry',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    theme_color: expect.stringMatching(/^#[0-9a-f]{6}$/i),
    background_color: expect.stringMatching(/^#[0-9a-f]{6}$/i),
    share_target: { action: '/share-target', method: 'POST', enctype: 'multipart/form-data' },
  });

  const pngs = manifest.icons.filter((icon) => icon.type === 'image/png');
  expect(pngs.map((icon) => icon.sizes).sort()).toEqual(['192x192', '512x512', '512x512']);
  expect(pngs.filter((icon) => icon.purpose === 'maskable')).toHaveLength(1);
  expect(manifest.icons.some((icon) => icon.type === 'image/svg+xml')).toBe(true);
  for (const icon of manifest.icons) {
    const image = await page.request.get(icon.src);
    expect(image.ok(), icon.src).toBe(true);
    expect(image.headers()['content-type']).toBe(icon.type);
    if (icon.type !== 'image/png') continue;
    const [width, height] = icon.sizes.split('x').map(Number);
    expect(pngSize(await image.body()), icon.src).toEqual({ width, height });
  }

  const cdp = await page.context().newCDPSession(page);
  const parsed = await cdp.send('Page.getAppManifest');
  expect(parsed.url).toMatch(/\/manifest\.webmanifest$/);
  expect(parsed.errors).toEqual([]);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  expect(installabilityErrors).toEqual([]);
}
