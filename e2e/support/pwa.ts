/** Helpers for the PWA journeys: service-worker control and PNG dimensions. */
import type { Page } from '@playwright/test';
import { test } from '@playwright/test';

/** How long one page load may take to be controlled by Ferry's service worker. */
const CONTROL_TIMEOUT_MS = 45_000;

/**
 * Resolves once the page is controlled by Ferry's service worker. Once in CI a page stayed
 * uncontrolled until the test's timeout, cause not found: now what the browser reports
 * about its registrations is kept as a test annotation, and the page is reloaded once (a
 * load registers the worker again, as a person's next visit would).
 */
export async function waitForServiceWorker(page: Page): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const state = await page.evaluate(async (timeoutMs) => {
      const controlled = new Promise<true>((resolve) => {
        if (navigator.serviceWorker.controller) resolve(true);
        navigator.serviceWorker.addEventListener('controllerchange', () => resolve(true), { once: true });
      });
      const late = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs));
      if (await Promise.race([navigator.serviceWorker.ready.then(() => controlled), late])) return null;
      const registrations = await navigator.serviceWorker.getRegistrations();
      return JSON.stringify(
        registrations.map((r) => ({
          scope: r.scope,
          installing: r.installing?.state ?? null,
          waiting: r.waiting?.state ?? null,
          active: r.active?.state ?? null,
        })),
      );
    }, CONTROL_TIMEOUT_MS);
    if (state === null) return;
    test.info().annotations.push({ type: 'service worker not in control', description: state });
    if (attempt === 2) throw new Error(`the page was not controlled by the service worker: ${state}`);
    await page.reload();
  }
}

/** Width and height from a PNG's IHDR chunk (PNG §11.2.2), or undefined when it is not a PNG. */
export function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(signature)) return undefined;
  if (bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
