/**
 * The start screen as a newcomer meets it, with a second device open on the same network:
 * one sentence says what Ferry is and that files are end-to-end encrypted; the device's
 * tile and the way to pick files for a link are both on the first screen without
 * scrolling (a 390×844 phone and a 1280×800 desktop), in light and dark. Files dropped on
 * a device's tile go to that device, and files dropped elsewhere on the page go into the
 * link send. Uppy, the file list's library, is not part of the first screen: it loads
 * when files are first dropped for a link, and the tile works without it.
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { NearbyPage } from './pages/nearby-page.ts';
import { checkAllSchemesAndSizes } from './support/a11y.ts';
import { downloadHash } from './support/downloads.ts';
import type { TestFile } from './support/files.ts';
import { KiB } from './support/files.ts';

const SIZES = [
  { name: 'phone', viewport: { width: 390, height: 844 } },
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
] as const;

const SENTENCE = /^Ferry sends files from this browser to another device, end-to-end encrypted: only the recipient/;

/** What the first screen must show without scrolling. */
function firstScreen(page: Page, peer: string): Locator[] {
  return [
    page.getByRole('heading', { level: 1, name: 'Send files', exact: true }),
    page.getByText(SENTENCE),
    page.getByRole('button', { name: `Send to ${peer}`, exact: true }),
    page.getByRole('button', { name: 'Choose files', exact: true }),
  ];
}

/** Drops `file` on `target` as a person dragging it from their file manager would. */
async function dropFile(page: Page, target: Locator, file: TestFile): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ({ name, bytes }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], name, { type: 'application/octet-stream' }));
      return transfer;
    },
    { name: file.name, bytes: [...file.bytes] },
  );
  await target.dispatchEvent('dragenter', { dataTransfer });
  await target.dispatchEvent('dragover', { dataTransfer });
  await target.dispatchEvent('drop', { dataTransfer });
}

for (const { name, viewport } of SIZES) {
  test(`start screen on a ${name}: what Ferry is, the devices and the pick control without scrolling`, async ({
    sender,
    receiver,
  }, testInfo) => {
    const other = new NearbyPage(receiver.page);
    await other.open();
    await sender.page.setViewportSize(viewport);
    const self = new NearbyPage(sender.page);
    await self.open();
    const peer = (await other.section.getByText('This device appears as').locator('strong').textContent()) ?? '';
    for (const scheme of ['light', 'dark'] as const) {
      await sender.page.emulateMedia({ colorScheme: scheme });
      for (const shown of firstScreen(sender.page, peer)) await expect(shown, scheme).toBeInViewport({ ratio: 1 });
    }
    // One place for each way, once: no second browse or pairing control.
    await expect(sender.page.getByRole('button', { name: /browse/i })).toHaveCount(0);
    await expect(sender.page.getByRole('button', { name: 'Choose files' })).toHaveCount(1);
    await expect(sender.page.getByRole('button', { name: 'Pair a device' })).toHaveCount(1);
    await expect(sender.page.getByRole('heading', { name: 'Send by link' })).toBeVisible();
    await checkAllSchemesAndSizes(sender.page, testInfo, `start screen (${name})`);
  });
}

test('a file dropped on a device tile goes to that device; one dropped on the page goes into the link send', async ({
  sender,
  receiver,
  files,
}) => {
  const forDevice = await files.file('drop/for-the-tile.bin', 300 * KiB);
  const forLink = await files.file('drop/for-the-link.bin', 200 * KiB);
  const scripts: string[] = [];
  sender.page.on('request', (request) => {
    if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
  });
  const from = new NearbyPage(sender.page);
  const to = new NearbyPage(receiver.page);
  await sender.page.setViewportSize({ width: 390, height: 844 });
  const senderName = await from.open();
  const receiverName = await to.open();
  const tile = sender.page.getByRole('listitem').filter({ has: from.tile(receiverName) });
  await expect(tile).toBeInViewport({ ratio: 1 });

  await dropFile(sender.page, tile, forDevice);
  await expect(from.code(receiverName)).toHaveText(/^\d{6}$/, { timeout: 30_000 });
  await from.confirmCode();
  const offer = to.offer(senderName);
  await expect(offer.getByText(forDevice.name)).toBeVisible();
  const [download] = await Promise.all([
    receiver.page.waitForEvent('download', { timeout: 60_000 }),
    offer.getByRole('button', { name: 'Accept' }).click(),
  ]);
  expect(await downloadHash(download)).toBe(forDevice.sha256);
  await expect(sender.page.getByText(`Sent to ${receiverName}.`)).toBeVisible();
  // The tile took the file without the link send's file list (Uppy) ever loading.
  expect(scripts.filter((path) => path.includes('uppy'))).toEqual([]);
  await expect(sender.sendButton).toBeDisabled();

  await dropFile(sender.page, sender.page.getByRole('heading', { level: 1 }), forLink);
  await expect(sender.dropzone.getByText(forLink.name)).toBeVisible();
  await expect(sender.sendButton).toBeEnabled();
  expect(scripts.some((path) => path.includes('uppy'))).toBe(true);
  // The file dropped for the link did not go to the device.
  await expect(offer.getByText(forLink.name)).toHaveCount(0);
});

test('on a phone with four devices nearby, the devices keep to one row that scrolls sideways and Choose files stays on the first screen', async ({
  browser,
  baseURL,
  sender,
}, testInfo) => {
  const others = await Promise.all([1, 2, 3, 4].map(() => browser.newContext({ baseURL })));
  try {
    const names: string[] = [];
    for (const context of others) names.push(await new NearbyPage(await context.newPage()).open());
    await sender.page.setViewportSize({ width: 390, height: 844 });
    const self = new NearbyPage(sender.page);
    await self.open();
    for (const name of names) await expect(self.tile(name)).toBeVisible();
    // One row: every tile starts at the first one's height, so more devices do not push the
    // pick control further down.
    const tops = await Promise.all(names.map(async (name) => (await self.tile(name).boundingBox())?.y ?? -1));
    for (const top of tops) expect(Math.abs(top - (tops[0] ?? -1))).toBeLessThan(2);
    for (const scheme of ['light', 'dark'] as const) {
      await sender.page.emulateMedia({ colorScheme: scheme });
      await expect(sender.page.getByRole('button', { name: 'Choose files', exact: true }), scheme).toBeInViewport({
        ratio: 1,
      });
    }
    await sender.page.screenshot({ path: testInfo.outputPath('four-devices.png') });
    // Every tile is reachable in the row; the page itself never scrolls sideways.
    const last = self.tile(names.at(-1) ?? '');
    await last.scrollIntoViewIfNeeded();
    await expect(last).toBeInViewport({ ratio: 1 });
    const pageWidth = await sender.page.evaluate(() => document.documentElement.scrollWidth);
    expect(pageWidth).toBeLessThanOrEqual(390);
    await checkAllSchemesAndSizes(sender.page, testInfo, 'start screen with four devices');
  } finally {
    await Promise.all(others.map((context) => context.close()));
  }
});
