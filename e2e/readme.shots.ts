/**
 * The README's screenshots, made as a person uses Ferry: the start screen on a desktop and a
 * phone, a link being sent (its card in view while the upload runs), the recipient's page
 * with thumbnails, and an offer from a nearby device. Each picture is taken at CSS pixel
 * size (1280×800 or 390×844, device scale 1), so the PNGs stay small.
 */
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { MiB } from './support/files.ts';
import { offerNearby } from './support/nearby-offer.ts';
import { throttleUploads } from './support/network.ts';

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const IMAGE = fileURLToPath(new URL('./fixtures/preview-image.png', import.meta.url));

/** Waits for fonts and transitions, then writes docs/screenshots/<name>.png. */
async function shoot(page: Page, name: string): Promise<void> {
  await page.evaluate(async () => {
    await document.fonts.ready;
    await Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined)));
  });
  await page.screenshot({ path: join(OUT, `${name}.png`), scale: 'css', animations: 'disabled', caret: 'hide' });
}

test.describe.configure({ timeout: 180_000 });

test('start screen, desktop and phone', async ({ sender }) => {
  await sender.page.setViewportSize(DESKTOP);
  await sender.open();
  await shoot(sender.page, 'start-desktop');
  await sender.page.setViewportSize(PHONE);
  await shoot(sender.page, 'start-phone');
});

test('a link being sent, and the recipient page', async ({ sender, receiver, files }) => {
  await sender.page.setViewportSize(DESKTOP);
  await receiver.page.setViewportSize(DESKTOP);
  const report = await files.file('harbour-survey-2026.zip', 24 * MiB);
  const map = join(files.dir, 'harbour-map.png');
  await copyFile(IMAGE, map);
  await sender.open();
  // 24 MiB at 2 MiB/s: the card is shown while the upload runs.
  await throttleUploads(sender.page, 2 * MiB);
  await sender.addFiles([report.path, map]);
  await sender.send();
  const link = await sender.linkNow();
  await expect(sender.progress).toBeVisible();
  await expect.poll(() => sender.percent(), { timeout: 60_000 }).toBeGreaterThanOrEqual(20);
  await shoot(sender.page, 'link-sending');
  await expect(sender.progress).toHaveCount(0, { timeout: 90_000 });

  await receiver.openShare(link);
  await expect(receiver.file('harbour-map.png').getByRole('img')).toBeVisible({ timeout: 30_000 });
  await shoot(receiver.page, 'recipient');
});

test('an offer from a nearby device, on a phone', async ({ sender, receiver, files }) => {
  const archive = await files.file('boat-trip.zip', 2 * MiB);
  await receiver.page.setViewportSize(PHONE);
  await offerNearby(sender.page, receiver.page, archive.path, archive.name);
  await shoot(receiver.page, 'nearby-offer');
});
