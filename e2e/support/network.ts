/** Slows a page's transfers so the journeys can act in the middle of one, and watches them. */
import type { BrowserContext, CDPSession, Page, Request } from '@playwright/test';

/**
 * Limits the page's upload throughput (Chromium network emulation via CDP). This session's
 * conditions outlast `context.setOffline`: a throttled page keeps uploading "offline" unless
 * the session goes offline too (`setNetworkOffline`).
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

/**
 * Takes a page's network away, or gives it back without a throughput limit, both for
 * Playwright (`navigator.onLine`, the context's other pages) and for the CDP `session` that
 * throttles it: `context.setOffline` alone leaves a throttled page's requests flowing.
 */
export async function setNetworkOffline(context: BrowserContext, session: CDPSession, offline: boolean): Promise<void> {
  if (offline) await context.setOffline(true);
  await session.send('Network.emulateNetworkConditions', {
    offline,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  if (!offline) await context.setOffline(false);
}

/**
 * Limits the page's download throughput, like `throttleUploads`. In Chromium the limit
 * also holds for the fetches of the page's dedicated workers (the receive worker), not only
 * for the page's own requests.
 */
export async function throttleDownloads(page: Page, bytesPerSecond: number): Promise<CDPSession> {
  const session = await page.context().newCDPSession(page);
  await session.send('Network.enable');
  await session.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: bytesPerSecond,
    uploadThroughput: -1,
  });
  return session;
}

/** One ciphertext GET: its `Range` header ('' when none), its `Ferry-Ticket`, the request. */
export interface FileGet {
  range: string;
  ticket: string;
  request: Request;
}

/**
 * Collects the ciphertext GETs (`/api/shares/<id>/files/<index>`) a context sends. A
 * context's `request` event also reports the requests of its pages' dedicated workers in
 * Chromium, which is where the receive worker fetches.
 */
export function watchFileGets(context: BrowserContext): { gets: FileGet[]; stop: () => void } {
  const gets: FileGet[] = [];
  const onRequest = (request: Request): void => {
    if (request.method() === 'GET' && /^\/api\/shares\/[^/]+\/files\/\d+$/.test(new URL(request.url()).pathname)) {
      const headers = request.headers();
      gets.push({ range: headers.range ?? '', ticket: headers['ferry-ticket'] ?? '', request });
    }
  };
  context.on('request', onRequest);
  return { gets, stop: () => context.off('request', onRequest) };
}

/** Collects the tus PATCH requests a page sends (with their Upload-Offset). */
export function watchPatches(page: Page): { offsets: number[]; stop: () => void } {
  const offsets: number[] = [];
  const onRequest = (request: Request): void => {
    if (request.method() === 'PATCH' && new URL(request.url()).pathname.startsWith('/files')) {
      offsets.push(Number(request.headers()['upload-offset'] ?? Number.NaN));
    }
  };
  page.context().on('request', onRequest);
  return { offsets, stop: () => page.context().off('request', onRequest) };
}
