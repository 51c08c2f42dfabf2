/// <reference lib="webworker" />
/**
 * Ferry's service worker: the precached app shell (workbox-precaching, manifest injected by
 * vite-plugin-pwa), the shell for share links, and streamed downloads. It never touches
 * /api, /files or /health: those go to the network untouched.
 *
 * Streamed downloads: the page transfers a ReadableStream of verified plaintext with a
 * `download` message (receive/messages.ts, validated here) and then navigates a hidden
 * iframe to /__download/<id>; this worker answers that navigation with the stream as an
 * attachment. The stream errors if the file fails verification, and the browser then marks
 * the download failed instead of keeping a bad file.
 */
import { matchPrecache, precacheAndRoute } from 'workbox-precaching';
import { contentDisposition } from './lib/transfer/receive/content-disposition.ts';
import {
  DOWNLOAD_PREFIX,
  downloadIdOf,
  parseSwDownload,
  type SwDownload,
  type SwReply,
} from './lib/transfer/receive/messages.ts';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

/** A download not claimed by its iframe within this time is dropped. */
const UNCLAIMED_MS = 60_000;
const SHARE_PATH = /^\/s\/[A-Za-z0-9_-]{16}\/?$/;
const NETWORK_ONLY = /^\/(api|files|health)(\/|$)/;

const downloads = new Map<string, SwDownload>();

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  // Only pages of this origin may hand over downloads.
  if (new URL(event.origin || self.location.origin).origin !== self.location.origin) return;
  const port = event.ports[0];
  const download = parseSwDownload(event.data);
  if (!download) {
    const reply: SwReply = { type: 'rejected', message: 'Malformed download message.' };
    port?.postMessage(reply);
    return;
  }
  downloads.set(download.id, download);
  setTimeout(() => {
    if (downloads.delete(download.id)) download.stream.cancel('unclaimed').catch(() => {});
  }, UNCLAIMED_MS);
  const reply: SwReply = { type: 'ready', url: `${DOWNLOAD_PREFIX}${download.id}` };
  port?.postMessage(reply);
});

// Registered before precacheAndRoute so it sees downloads and share links first.
self.addEventListener('fetch', (event: FetchEvent) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || NETWORK_ONLY.test(url.pathname)) return;
  if (url.pathname.startsWith(DOWNLOAD_PREFIX)) {
    event.respondWith(answerDownload(url.pathname));
    return;
  }
  if (event.request.mode === 'navigate' && SHARE_PATH.test(url.pathname)) {
    event.respondWith(appShell(event.request));
  }
});

function answerDownload(pathname: string): Response {
  const id = downloadIdOf(pathname);
  const download = id === undefined ? undefined : downloads.get(id);
  if (!download || id === undefined) return new Response('This download is no longer available.', { status: 404 });
  downloads.delete(id);
  const headers = new Headers({
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': contentDisposition(download.name),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  });
  if (download.size !== null) headers.set('Content-Length', String(download.size));
  return new Response(download.stream, { headers });
}

/** /s/<id> is the app; the server would answer index.html too, this also works offline. */
async function appShell(request: Request): Promise<Response> {
  return (await matchPrecache('index.html')) ?? fetch(request);
}

precacheAndRoute(self.__WB_MANIFEST);
