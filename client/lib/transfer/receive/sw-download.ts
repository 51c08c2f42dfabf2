/**
 * The page's half of a streamed download through the service worker (the StreamSaver
 * pattern, without its postMessage pump): the plaintext ReadableStream is transferred to
 * the service worker, which answers a navigation to /__download/<id> with it as an
 * attachment. A hidden iframe makes that navigation: a navigation is handled by the
 * service worker whose scope contains the URL even when this page itself is not yet
 * controlled (Service Workers §"Handle Fetch").
 */
import { toBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { parseSwReply, type SwDownload, type SwDownloadAlive, type SwReply } from './messages.ts';
import { incomplete, watched } from './watched-stream.ts';

const SW_URL = '/service-worker.js';
const READY_TIMEOUT_MS = 10_000;

let registration: Promise<ServiceWorkerRegistration | null> | undefined;

/** Registers Ferry's service worker once (production builds only; `vite dev` has none). */
export function registerServiceWorker(): Promise<ServiceWorkerRegistration | null> {
  registration ??= (async () => {
    if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return null;
    try {
      return await navigator.serviceWorker.register(SW_URL, { type: 'module' });
    } catch {
      // The built worker is one bundle without imports, so a classic registration also works
      // where module service workers are not supported.
      return navigator.serviceWorker.register(SW_URL).catch(() => null);
    }
  })();
  return registration;
}

/** The active service worker, or null when there is none within a few seconds. */
export async function activeServiceWorker(): Promise<ServiceWorker | null> {
  if (!(await registerServiceWorker())) return null;
  const ready = navigator.serviceWorker.ready.then((r) => r.active);
  return Promise.race([ready, timeout(READY_TIMEOUT_MS).then(() => null)]);
}

/** How often the page renews the service worker's lifetime while a download streams. */
const KEEPALIVE_MS = 1_000;
/**
 * The browser not reading the next chunk for this long means the download stopped (its
 * service worker was stopped, or the download was cancelled in the browser): a browser
 * reads a download's body as fast as its disk takes it, also while a Save dialog is open.
 */
export const STALL_MS = 30_000;

/**
 * Streams `stream` to a download named `name`; resolves once the browser has read all
 * `size` bytes from the service worker. Rejects with DOWNLOAD_INCOMPLETE when the browser
 * stops reading (the download then fails in the browser too, where it still can), and with
 * `stream`'s own error when that fails.
 */
export async function streamToServiceWorker(
  stream: ReadableStream<Uint8Array>,
  name: string,
  size: number | null,
): Promise<void> {
  const worker = await activeServiceWorker();
  if (!worker) throw new FerryError('INTERNAL', 'This browser cannot save large files here.');
  const id = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  const alive: SwDownloadAlive = { type: 'download-alive', id };
  // The page keeps the source, so it learns when the source ends or fails, or the reader stops.
  const copy = watched(stream, { stallMs: STALL_MS, beatMs: KEEPALIVE_MS, beat: () => worker.postMessage(alive) });
  const { port1, port2 } = new MessageChannel();
  const message: SwDownload = { type: 'download', id, name, size, stream: copy.readable };
  const replies: SwReply[] = [];
  let wake: () => void = () => {};
  port1.onmessage = (event) => {
    const reply = parseSwReply(event.data);
    if (reply) replies.push(reply);
    wake();
  };
  const next = async (ms: number): Promise<SwReply | undefined> => {
    if (replies.length === 0) await Promise.race([new Promise<void>((r) => (wake = r)), timeout(ms)]);
    return replies.shift();
  };
  try {
    worker.postMessage(message, [copy.readable as unknown as Transferable, port2]);
    const answer = await next(READY_TIMEOUT_MS);
    if (answer?.type !== 'ready') {
      await copy.readable.cancel().catch(() => {});
      throw new FerryError('INTERNAL', 'The download could not be started.');
    }
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.title = 'download';
    frame.src = answer.url;
    document.body.append(frame);
    // Leave the frame until the browser has taken the response over.
    setTimeout(() => frame.remove(), 30_000);
    const bytes = await copy.done;
    // The service worker says so once the browser has read the end of its response too.
    const delivered = await next(STALL_MS);
    if (delivered?.type !== 'delivered' || delivered.bytes !== bytes) {
      throw incomplete(
        `the browser read ${delivered?.type === 'delivered' ? delivered.bytes : 'not all'} of ${bytes} bytes`,
      );
    }
  } finally {
    port1.close();
  }
}

function timeout(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}
