/**
 * The page's side of one service-worker preview session (sw-preview.ts), shared by the
 * preview dialog (file-preview.svelte.ts) and thumbnails (thumbnail.ts): find the worker that
 * controls the page, hand it a session and wait for its URL, and read plaintext ranges of
 * that URL. The worker fetches and opens only the records a range needs.
 */
import { FerryError, isErrorCode } from '../../../../shared/errors.ts';
import { activeServiceWorker } from '../receive/sw-download.ts';
import {
  PREVIEW_ERROR_HEADER,
  parseSwPreviewEvent,
  type SwPreviewClose,
  type SwPreviewOpen,
} from './preview-messages.ts';

/** Everything the service worker needs for one file: its cipher and how to read its ciphertext. */
export type PreviewSource = Omit<SwPreviewOpen, 'type' | 'session'>;

const WORKER_WAIT_MS = 10_000;

/**
 * Sends (or renews) session `session` on a new port and resolves with the URL of the worker's
 * `preview-ready`. A `preview-failed` the worker reports later, on the same port, goes to
 * `onFailed`. The caller closes `port` when the session ends.
 */
export function openSession(
  worker: ServiceWorker,
  session: string,
  source: PreviewSource,
  onFailed: (error: FerryError) => void,
): { port: MessagePort; ready: Promise<string> } {
  const { port1, port2 } = new MessageChannel();
  const message: SwPreviewOpen = { type: 'preview-open', session, ...source };
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new FerryError('INTERNAL', 'The preview could not be started.')),
      WORKER_WAIT_MS,
    );
    port1.onmessage = (event: MessageEvent<unknown>) => {
      const reply = parseSwPreviewEvent(event.data);
      clearTimeout(timer);
      if (reply?.session !== session) {
        reject(new FerryError('INTERNAL', 'The preview could not be started.'));
      } else if (reply.type === 'preview-ready') {
        resolve(reply.url);
      } else {
        // Reported after the response began (a record deep in a video failed, say).
        onFailed(new FerryError(reply.code, reply.message));
      }
    };
    worker.postMessage(message, [port2]);
  });
  return { port: port1, ready };
}

/**
 * Plaintext bytes [start, end) of a session's URL (end > start, within the file). A failure
 * carries the worker's code: its `preview-failed` event may come after this answer.
 */
export async function readPlain(url: string, start: number, end: number): Promise<ArrayBuffer> {
  const response = await fetch(url, { headers: { Range: `bytes=${start}-${end - 1}` } });
  if (!response.ok) {
    const code = response.headers.get(PREVIEW_ERROR_HEADER);
    throw new FerryError(isErrorCode(code) ? code : 'NETWORK_ERROR', await response.text());
  }
  return response.arrayBuffer();
}

/** The worker that handles this page's fetches; previews cannot work without one. */
export async function controllingWorker(): Promise<ServiceWorker> {
  const unavailable = new FerryError(
    'INTERNAL',
    'Previews need Ferry’s service worker, which this browser has not started. Download the file instead.',
  );
  if (!(await activeServiceWorker())) throw unavailable;
  const container = navigator.serviceWorker;
  // The worker claims the page when it activates (service-worker.ts), so this comes quickly.
  const controller =
    container.controller ??
    (await new Promise<ServiceWorker | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), WORKER_WAIT_MS);
      container.addEventListener(
        'controllerchange',
        () => {
          clearTimeout(timer);
          resolve(container.controller);
        },
        { once: true },
      );
    }));
  if (!controller) throw unavailable;
  return controller;
}

/** Ends a session: the worker forgets the key and answers 404 from now on. */
export function closeSession(session: string, port: MessagePort | null): void {
  port?.close();
  const message: SwPreviewClose = { type: 'preview-close', session };
  navigator.serviceWorker?.controller?.postMessage(message);
}
