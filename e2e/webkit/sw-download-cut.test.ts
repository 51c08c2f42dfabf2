/**
 * The smallest case of a WebKit fault Ferry cannot work around: a download answered by a
 * service worker whose body errors midway is failed, but WebKit keeps the bytes it had
 * under the download's real name. No Ferry code here: a page, a 12-line service worker that
 * serves 2 of 4 MiB and then errors its stream (with an exact Content-Length, and without
 * one), and the same page in Chromium for comparison, which deletes its partial file.
 *
 * Why (WebKit source, Source/WebKit/NetworkProcess/ServiceWorker/ServiceWorkerDownloadTask.cpp):
 * a download whose response came from a service worker is written straight to its final
 * path (`openFile(m_pendingDownloadLocation, Truncate)`), with no intermediate file, and
 * `didFailDownload` only closes that file; nothing deletes it. Network downloads are not
 * affected. So whatever the service worker does, an error it reports leaves the prefix.
 * Ferry's page says the download failed (journeys.test.ts); README's browser table says
 * what WebKit leaves behind. If this test starts failing, WebKit has fixed it: update both.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { listing } from '../firefox/support/app.ts';
import { type Driven, launch } from '../firefox/support/browsers.ts';
import { freePort } from '../support/server.ts';
import { waitIn } from './support/app.ts';
import { launchWebKit, type WebKit } from './support/webkit.ts';

const MiB = 1024 * 1024;
const SENT = 2 * MiB;
const ANNOUNCED = 4 * MiB;

/** Serves `/dl/<variant>`: SENT bytes, a second's pause, then an error (or the rest, for `whole`). */
const SERVICE_WORKER = `
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const variant = new URL(event.request.url).pathname.match(/^\\/dl\\/([a-z-]+)$/)?.[1];
  if (!variant) return;
  let sent = 0;
  const body = new ReadableStream({
    async pull(controller) {
      if (sent === ${SENT} && variant !== 'whole') {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        controller.error(new Error('cut'));
        return;
      }
      if (sent === ${ANNOUNCED}) return controller.close();
      controller.enqueue(new Uint8Array(256 * 1024).fill(7));
      sent += 256 * 1024;
    },
  }, { highWaterMark: 0 });
  const headers = { 'Content-Type': 'application/octet-stream', 'Content-Disposition': 'attachment; filename="' + variant + '.bin"' };
  if (variant !== 'error-no-length') headers['Content-Length'] = '${ANNOUNCED}';
  event.respondWith(new Response(body, { headers }));
});
`;

const PAGE = `<!doctype html><title>cut download</title><body><script>
window.swReady = navigator.serviceWorker.register('/sw.js').then(() => navigator.serviceWorker.ready).then(() => true);
window.startDownload = (variant) => {
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.src = '/dl/' + variant;
  document.body.append(frame);
};
</script></body>`;

let server: Server;
let origin: string;
let webkit: WebKit;
let chromium: Driven;

before(async () => {
  server = createServer((request, response) => {
    if (request.url === '/sw.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' });
      response.end(SERVICE_WORKER);
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end(PAGE);
  });
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  origin = `http://127.0.0.1:${port}`;
  [webkit, chromium] = await Promise.all([launchWebKit(), launch('chromium')]);
});

after(async () => {
  await Promise.all([webkit?.stop(), chromium?.stop()]);
  await new Promise((done) => server?.close(done));
});

/** Waits until `name`'s size in `dir` has not changed for 3 s; its size then (0: absent). */
async function settledSize(dir: string, name: string): Promise<number> {
  let last = -1;
  let since = Date.now();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const size = (await listing(dir)).get(name) ?? 0;
    if (size !== last) {
      last = size;
      since = Date.now();
    } else if (Date.now() - since >= 3_000) {
      return size;
    }
    if (Date.now() > deadline) throw new Error(`${name} still changing after 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Starts `/dl/<variant>` in WebKit; what is under `<variant>.bin` once it settles. */
async function inWebKit(variant: string): Promise<number> {
  await webkit.open(`${origin}/`);
  await waitIn(webkit, 'the service worker is ready', () => (window as unknown as { swReady?: unknown }).swReady, []);
  await webkit.run((v: string) => (window as unknown as { startDownload(v: string): void }).startDownload(v), variant);
  await new Promise((r) => setTimeout(r, 3_000));
  return await settledSize(webkit.downloads, `${variant}.bin`);
}

/** The same in Chromium. */
async function inChromium(variant: string): Promise<number> {
  const page = await chromium.page();
  try {
    await page.goto(`${origin}/`);
    await page.evaluate(() => (window as unknown as { swReady: Promise<boolean> }).swReady);
    await page.evaluate((v) => (window as unknown as { startDownload(v: string): void }).startDownload(v), variant);
    await new Promise((r) => setTimeout(r, 3_000));
    return await settledSize(chromium.downloads, `${variant}.bin`);
  } finally {
    await page.close();
  }
}

describe('a service worker download whose body errors midway', () => {
  test('control: the whole body is saved whole in both browsers', async () => {
    assert.equal(await inWebKit('whole'), ANNOUNCED);
    assert.equal(await inChromium('whole'), ANNOUNCED);
  });

  test('Chromium deletes what it had; WebKit keeps the prefix under the real name (WebKit fault)', async () => {
    for (const variant of ['error', 'error-no-length']) {
      assert.equal(await inChromium(variant), 0, `Chromium leaves nothing under ${variant}.bin`);
      assert.equal(
        await inWebKit(variant),
        SENT,
        `WebKit keeps the ${SENT} bytes it had under ${variant}.bin, Content-Length ${variant === 'error' ? 'exact' : 'absent'}`,
      );
    }
  });
});
