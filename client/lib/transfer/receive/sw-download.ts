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
import { parseSwReply, type SwDownload } from './messages.ts';

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

/** Streams `stream` to a download named `name`; resolves when every byte was handed over. */
export async function streamToServiceWorker(
  stream: ReadableStream<Uint8Array>,
  name: string,
  size: number | null,
): Promise<void> {
  const worker = await activeServiceWorker();
  if (!worker) throw new FerryError('INTERNAL', 'This browser cannot save large files here.');
  // The page keeps the writable end, so it learns when the source ends or fails.
  const relay = new TransformStream<Uint8Array, Uint8Array>();
  const piping = stream.pipeTo(relay.writable);
  const { port1, port2 } = new MessageChannel();
  const message: SwDownload = {
    type: 'download',
    id: toBase64Url(crypto.getRandomValues(new Uint8Array(16))),
    name,
    size,
    stream: relay.readable,
  };
  const reply = new Promise<unknown>((resolve) => {
    port1.onmessage = (event) => resolve(event.data);
  });
  worker.postMessage(message, [relay.readable as unknown as Transferable, port2]);
  const answer = parseSwReply(await Promise.race([reply, timeout(READY_TIMEOUT_MS)]));
  port1.close();
  if (answer?.type !== 'ready') {
    await relay.readable.cancel().catch(() => {});
    throw new FerryError('INTERNAL', 'The download could not be started.');
  }
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.title = 'download';
  frame.src = answer.url;
  document.body.append(frame);
  try {
    await piping;
  } finally {
    // Leave the frame until the browser has taken the response over.
    setTimeout(() => frame.remove(), 30_000);
  }
}

function timeout(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}
