/** Slows a page's uploads so the journeys can act in the middle of one. */
import type { CDPSession, Page } from '@playwright/test';

/**
 * Limits the page's upload throughput (Chromium network emulation via CDP). Playwright's
 * `context.setOffline` sends the same CDP command, so going offline and back online clears
 * this limit.
 */
export async function throttleUploads(page: Page, bytesPerSecond: number): Promise<CDPSession> {
  const session = await page.context().newCDPSession(page);
  await session.send('Network.enable');
  await session.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
  return session;
}

/** Collects the tus PATCH requests a page sends (with their Upload-Offset). */
export function watchPatches(page: Page): { offsets: number[]; stop: () => void } {
  const offsets: number[] = [];
  const onRequest = (request: import('@playwright/test').Request): void => {
    if (request.method() === 'PATCH' && new URL(request.url()).pathname.startsWith('/files')) {
      offsets.push(Number(request.headers()['upload-offset'] ?? Number.NaN));
    }
  };
  page.context().on('request', onRequest);
  return { offsets, stop: () => page.context().off('request', onRequest) };
}
