/**
 * Thumbnails on the recipient's page: decrypted in the browser from a few records each. A
 * large JPEG shows the thumbnail stored in its EXIF block (its first record only), a small
 * PNG is read whole (two records) and scaled down, and a large file that is no image shows a
 * type icon and is not read at all. What the server served is counted from the browser's
 * own network events, as a person's browser makes them.
 */
import { statSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { watchCiphertext } from './support/ciphertext-reads.ts';
import { downloadHash } from './support/downloads.ts';
import { withExifThumbnail } from './support/exif-jpeg.ts';
import { KiB, MiB, sha256File } from './support/files.ts';
import { encryptedSize } from './support/tamper.ts';

/** 1280×720, 106,840 bytes: two records of 64 KiB. */
const PNG = fileURLToPath(new URL('./fixtures/preview-image.png', import.meta.url));
const RECORD = 64 * KiB + 16;

/**
 * A JPEG of noise (so it is large: well past four records) and a 160×120 thumbnail, both
 * encoded by the browser's canvas; Node assembles the EXIF block around the thumbnail.
 */
async function cameraJpeg(page: Page): Promise<Uint8Array> {
  const [picture, thumbnail] = await page.evaluate(async () => {
    const encode = async (width: number, height: number, paint: (c: OffscreenCanvasRenderingContext2D) => void) => {
      const canvas = new OffscreenCanvas(width, height);
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2d context');
      paint(context);
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
      return [...new Uint8Array(await blob.arrayBuffer())];
    };
    const noise = (c: OffscreenCanvasRenderingContext2D) => {
      const image = c.createImageData(1200, 900);
      let x = 2463534242;
      for (let i = 0; i < image.data.length; i++) {
        // xorshift32: noise a JPEG cannot compress much.
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        image.data[i] = i % 4 === 3 ? 255 : x & 255;
      }
      c.putImageData(image, 0, 0);
    };
    const sky = (c: OffscreenCanvasRenderingContext2D) => {
      c.fillStyle = '#3a7bd5';
      c.fillRect(0, 0, 160, 120);
      c.fillStyle = '#f5c542';
      c.fillRect(100, 20, 30, 30);
    };
    return [await encode(1200, 900, noise), await encode(160, 120, sky)];
  });
  // Orientation 6, as a phone held upright writes it: the thumbnail is shown turned, 120×160.
  return withExifThumbnail(new Uint8Array(picture), new Uint8Array(thumbnail), 6);
}

test('the recipient sees image thumbnails made from a few records, and a type icon for the rest', async ({
  sender,
  receiver,
  receiverContext,
  files,
}) => {
  // Made on the recipient's blank page, before it opens the link.
  const jpeg = join(files.dir, 'camera-photo.jpg');
  await writeFile(jpeg, await cameraJpeg(receiver.page));
  await sender.open();
  const jpegSize = statSync(jpeg).size;
  expect(jpegSize, 'the JPEG is past the four records a thumbnail may read whole').toBeGreaterThan(4 * 64 * KiB);
  const archive = await files.file('archive.bin', 3 * MiB);

  const reads = watchCiphertext(receiverContext);
  const link = await sender.sendFiles([jpeg, PNG, archive.path]);
  await receiver.openShare(link);

  // Scaled to a 96-pixel edge: 160×120 turned upright → 72×96, 1280×720 → 96×54.
  const expected = { 'camera-photo.jpg': { width: 72, height: 96 }, 'preview-image.png': { width: 96, height: 54 } };
  for (const [name, size] of Object.entries(expected)) {
    const thumbnail = receiver.file(name).getByRole('img', { name: `Thumbnail of ${name}` });
    await expect(thumbnail).toBeVisible({ timeout: 30_000 });
    const decoded = await thumbnail.evaluate(async (img: HTMLImageElement) => {
      await img.decode();
      return { width: img.naturalWidth, height: img.naturalHeight };
    });
    expect(decoded, `${name} decoded at its thumbnail size`).toEqual(size);
  }
  await expect(receiver.file('archive.bin').getByRole('img')).toHaveCount(0);
  await expect(receiver.file('archive.bin')).toContainText('BIN');

  // Give a stray read time to show up before counting.
  await receiver.page.waitForTimeout(1_000);
  const indices = [...new Set(reads.map((r) => r.file))];
  const served = indices.map((file) =>
    reads.filter((r) => r.file === file).map(({ start, bytes }) => ({ start, bytes })),
  );
  console.log(`[thumbnails] ciphertext reads per file: ${JSON.stringify(served)}`);
  // The JPEG: its first record, once. The PNG: both of its records, each once. The archive: nothing.
  expect(served).toHaveLength(2);
  expect(served).toContainEqual([{ start: 0, bytes: RECORD }]);
  const png = served.find((list) => list.length !== 1 || list[0]?.bytes !== RECORD) ?? [];
  expect(png.reduce((sum, r) => sum + r.bytes, 0)).toBe(encryptedSize(statSync(PNG).size));
  expect(png.every((r, i) => i === 0 || r.start === (png[i - 1]?.start ?? 0) + (png[i - 1]?.bytes ?? 0))).toBe(true);
});

test('thumbnails load as their rows come into view, not before', async ({
  sender,
  receiver,
  receiverContext,
  files,
}) => {
  const names = Array.from({ length: 12 }, (_, i) => `chart-${String(i + 1).padStart(2, '0')}.png`);
  const paths = await Promise.all(
    names.map(async (name) => {
      const path = join(files.dir, name);
      await copyFile(PNG, path);
      return path;
    }),
  );
  await sender.open();
  const link = await sender.sendFiles(paths);
  const reads = watchCiphertext(receiverContext);
  await receiver.page.setViewportSize({ width: 390, height: 844 });
  await receiver.openShare(link);

  const first = receiver.file(names[0] ?? '').getByRole('img', { name: /^Thumbnail of / });
  await expect(first).toBeVisible({ timeout: 30_000 });
  await receiver.page.waitForTimeout(1_000);
  const seen = new Set(reads.map((r) => r.file)).size;
  console.log(`[thumbnails] files read with the top of the list in view: ${seen} of ${names.length}`);
  expect(seen, 'rows far below the fold are not read').toBeLessThan(names.length);
  const last = receiver.file(names.at(-1) ?? '');
  await expect(last.getByRole('img')).toHaveCount(0);

  await last.scrollIntoViewIfNeeded();
  await expect(last.getByRole('img', { name: /^Thumbnail of / })).toBeVisible({ timeout: 30_000 });
});

test.describe('thumbnails never count as a download', () => {
  // Tickets lapse after 4 idle seconds and the sweeper runs every second, so a lapse is seen in the test's time.
  const IDLE_MS = 4_000;
  test.use({ ferryEnv: { FERRY_TICKET_IDLE_MS: String(IDLE_MS), FERRY_SWEEP_INTERVAL_MS: '1000' } });

  test('a visit that only saw thumbnails is no download after its ticket lapses; a real download is one', async ({
    sender,
    receiver,
    receiverContext,
  }) => {
    await sender.open();
    const link = await sender.sendFiles([PNG]);
    const card = sender.currentCard;
    await expect(card.getByText(/^No downloads yet · expires in 23 h$/)).toBeVisible();

    const reads = watchCiphertext(receiverContext);
    await receiver.openShare(link);
    const thumbnail = receiver.file('preview-image.png').getByRole('img', { name: 'Thumbnail of preview-image.png' });
    await expect(thumbnail).toBeVisible({ timeout: 30_000 });
    expect(reads.length, 'the thumbnail was read from the server').toBeGreaterThan(0);
    // The recipient leaves; its thumbnail ticket goes idle and lapses at a sweep, and the
    // card polls every 3 s: wait for all three with room to spare.
    await receiver.page.goto('about:blank');
    await sender.page.waitForTimeout(IDLE_MS + 1_000 + 3_000 + 4_000);
    await expect(card.getByText(/^No downloads yet · expires in 23 h$/)).toBeVisible();

    await receiver.openShare(link);
    const download = await receiver.download('preview-image.png');
    expect(await downloadHash(download), 'byte for byte the file').toBe(await sha256File(PNG));
    await expect(card.getByText(/^1 download · expires in 23 h$/)).toBeVisible({ timeout: 15_000 });
  });
});
