/**
 * Reads a QR code as a phone camera would: from the pixels on screen. Playwright takes a
 * PNG screenshot of the element, the page decodes it to RGBA (createImageBitmap: no network,
 * so the app's CSP does not apply) and jsQR decodes the symbol in Node.
 */
import type { Locator } from '@playwright/test';
import jsQR from 'jsqr';

/** The text of the QR code shown by `element`, or null when none can be read. */
export async function readQrCode(element: Locator): Promise<string | null> {
  const png = await element.screenshot({ animations: 'disabled' });
  const { width, height, rgba } = await element.page().evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2d context');
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    let binary = '';
    for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return { width: bitmap.width, height: bitmap.height, rgba: btoa(binary) };
  }, png.toString('base64'));
  const pixels = new Uint8ClampedArray(Buffer.from(rgba, 'base64'));
  return jsQR(pixels, width, height)?.data ?? null;
}
