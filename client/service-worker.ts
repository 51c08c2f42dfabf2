/// <reference lib="webworker" />
/**
 * Ferry's service worker: the precached app shell (workbox-precaching, manifest injected by
 * vite-plugin-pwa) for every navigation, so Ferry opens offline; files shared from other
 * apps (POST /share-target); and streamed downloads. It never touches /api, /files,
 * /health or /signal: those go to the network untouched.
 *
 * Streamed downloads: the page transfers a ReadableStream of verified plaintext with a
 * `download` message (receive/messages.ts, validated here) and then navigates a hidden
 * iframe to /__download/<id>; this worker answers that navigation with the stream as an
 * attachment. The stream errors if the file fails verification or ends short of its size,
 * and the browser then marks the download failed instead of keeping a bad file. While it
 * streams, the page sends `download-alive` every second: a streamed response does not keep
 * a service worker alive in Firefox, which stops it when idle (30 s) and keeps the cut file.
 * Where the page cannot transfer a stream (Safari), files that sit whole and verified in
 * OPFS (received from a nearby device, or a link's files staged there first) are read from
 * there, one as itself or all as one ZIP (`download-stored`, receive/sw-stored.ts); where
 * OPFS does not work either, the page sends `download-fetch` and this worker fetches,
 * decrypts and verifies the one file itself (receive/sw-fetch.ts), served the same way.
 *
 * Previews: the page opens a session with a `preview-open` message (preview/preview-messages.ts)
 * and this worker answers /__preview/<session>/<name>, Range requests included, by fetching
 * and decrypting only the records asked for (preview/sw-preview.ts).
 *
 * Updates: a new version installs and waits until a page sends SKIP_WAITING (the user chose
 * "Reload"), so an open page never runs against a shell it was not built with.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { FerryError } from '../shared/errors.ts';
import { parseSwControl } from './lib/pwa/messages.ts';
import { receiveShare, SHARE_TARGET_PATH } from './lib/pwa/share-target.ts';
import { PREVIEW_PREFIX, parseSwPreviewMessage } from './lib/transfer/preview/preview-messages.ts';
import { PreviewSessions } from './lib/transfer/preview/sw-preview.ts';
import { contentDisposition } from './lib/transfer/receive/content-disposition.ts';
import {
  DOWNLOAD_PREFIX,
  downloadIdOf,
  parseSwDownload,
  parseSwDownloadAlive,
  parseSwFetch,
  parseSwStored,
  type SwDownload,
  type SwReply,
} from './lib/transfer/receive/messages.ts';
import { fetchedDownload } from './lib/transfer/receive/sw-fetch.ts';
import { storedDownload } from './lib/transfer/receive/sw-stored.ts';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

/** A download not claimed by its iframe within this time is dropped. */
const UNCLAIMED_MS = 60_000;
const NETWORK_ONLY = /^\/(api|files|health|signal)(\/|$)/;

const downloads = new Map<string, SwDownload & { port: MessagePort | null }>();
/** Open previews: keys in memory only, forgotten when their page stops renewing them. */
const previews = new PreviewSessions();

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  // Only pages of this origin may hand over downloads or activate an update.
  if (new URL(event.origin || self.location.origin).origin !== self.location.origin) return;
  if (parseSwControl(event.data)) {
    event.waitUntil(self.skipWaiting());
    return;
  }
  const port = event.ports[0];
  const preview = parseSwPreviewMessage(event.data);
  if (preview) {
    if (preview.type === 'preview-open') previews.open(preview, port ?? null);
    else previews.close(preview.session);
    return;
  }
  if (parseSwDownloadAlive(event.data)) {
    // Nothing to do: the message event itself renewed this worker's lifetime.
    return;
  }
  const fetched = parseSwFetch(event.data);
  const stored = parseSwStored(event.data);
  const starting = fetched
    ? fetchedDownload(fetched, port ?? null)
    : stored
      ? storedDownload(stored, port ?? null)
      : undefined;
  if (starting) {
    const started = starting.then(
      (download) => hold(download, port ?? null),
      (error: unknown) => {
        const message = error instanceof FerryError ? error.message : 'The download could not be started.';
        port?.postMessage({ type: 'rejected', message } satisfies SwReply);
      },
    );
    event.waitUntil(started);
    return;
  }
  const download = parseSwDownload(event.data);
  if (!download) {
    const reply: SwReply = { type: 'rejected', message: 'Malformed download message.' };
    port?.postMessage(reply);
    return;
  }
  hold(download, port ?? null);
});

/** Keeps `download` for its iframe's navigation and tells the page where to navigate. */
function hold(download: SwDownload, port: MessagePort | null): void {
  downloads.set(download.id, { ...download, port });
  setTimeout(() => {
    if (downloads.delete(download.id)) download.stream.cancel('unclaimed').catch(() => {});
  }, UNCLAIMED_MS);
  const reply: SwReply = { type: 'ready', url: `${DOWNLOAD_PREFIX}${download.id}` };
  port?.postMessage(reply);
}

// Registered before workbox's routes so it sees downloads and shares first.
self.addEventListener('fetch', (event: FetchEvent) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || NETWORK_ONLY.test(url.pathname)) return;
  if (url.pathname.startsWith(DOWNLOAD_PREFIX)) {
    event.respondWith(answerDownload(url.pathname));
    return;
  }
  if (url.pathname.startsWith(PREVIEW_PREFIX)) {
    event.respondWith(previews.answer(event.request, url.pathname));
    return;
  }
  if (event.request.method === 'POST' && url.pathname === SHARE_TARGET_PATH) {
    event.respondWith(receiveShare(event.request, self.location.origin));
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
  return new Response(exactly(download.stream, download.size, download.port), { headers });
}

/**
 * `stream`, read only as fast as the browser asks (high-water mark 0), erroring instead of
 * ending when it ends short of `size` bytes or runs past it: a body that just ended would
 * leave a cut file under the real name, as if complete. Once the browser has asked for the
 * end, `port` hears `delivered` with the byte count.
 */
function exactly(stream: ReadableStream<Uint8Array>, size: number | null, port: MessagePort | null) {
  const reader = stream.getReader();
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          if (size !== null && sent !== size) throw new Error(`The download ended after ${sent} of ${size} bytes.`);
          controller.close();
          const reply: SwReply = { type: 'delivered', bytes: sent };
          port?.postMessage(reply);
          return;
        }
        sent += value.byteLength;
        if (size !== null && sent > size) throw new Error(`The download ran past its ${size} bytes.`);
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

// Takes over pages opened before the first install at once, so Ferry works offline after one
// visit. A later version gets here only after SKIP_WAITING (above).
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Every navigation (/, /s/<id>, /?shared=…) gets the precached shell, online or not; the
// server's own paths and streamed downloads are never the app.
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('index.html'), {
    denylist: [NETWORK_ONLY, /^\/__download\//, /^\/__preview\//, new RegExp(`^${SHARE_TARGET_PATH}/`)],
  }),
);
