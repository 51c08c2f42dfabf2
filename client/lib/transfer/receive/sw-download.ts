/**
 * The page's half of a streamed download through the service worker (the StreamSaver
 * pattern, without its postMessage pump): the plaintext ReadableStream is transferred to
 * the service worker, which answers a navigation to /__download/<id> with it as an
 * attachment. A hidden iframe makes that navigation: a navigation is handled by the
 * service worker whose scope contains the URL even when this page itself is not yet
 * controlled (Service Workers §"Handle Fetch").
 *
 * Where streams cannot be transferred (Safari), `fetchInServiceWorker` hands the worker
 * what it needs to fetch and decrypt the file, or every file of a ZIP, itself (sw-fetch.ts)
 * and follows it there.
 */
import { toBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import {
  parseSwReply,
  type SwDownload,
  type SwDownloadAlive,
  type SwFetch,
  type SwHash,
  type SwReply,
  type SwStored,
} from './messages.ts';
import { BEAT_MS, incomplete, READER_STALL_MS, watched } from './watched-stream.ts';

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

/**
 * One download handed to the service worker: its id, the replies on its port (in order),
 * and the hidden iframe whose navigation the worker answers with the file.
 */
class SwChannel {
  readonly id = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  readonly #ports = new MessageChannel();
  readonly #replies: SwReply[] = [];
  #wake: () => void = () => {};

  constructor(readonly worker: ServiceWorker) {
    this.#ports.port1.onmessage = (event) => {
      const reply = parseSwReply(event.data);
      if (reply) this.#replies.push(reply);
      this.#wake();
    };
  }

  /** Posts `message` to the worker with the channel's far port (and `transfer`). */
  post(message: SwDownload | SwFetch | SwStored, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, [...transfer, this.#ports.port2]);
  }

  /** Answers the worker on the download's port. */
  answer(message: SwHash): void {
    this.#ports.port1.postMessage(message);
  }

  /** The next reply, or undefined when none comes within `ms`. */
  async next(ms: number): Promise<SwReply | undefined> {
    if (this.#replies.length === 0) await Promise.race([new Promise<void>((r) => (this.#wake = r)), timeout(ms)]);
    return this.#replies.shift();
  }

  /**
   * Waits for `ready` and navigates a hidden iframe to the download. A fetching worker may
   * report on its first file before it says where to navigate: those replies stay queued.
   */
  async start(): Promise<boolean> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let answer = this.#replies.find(isStart);
    while (!answer && Date.now() < deadline) {
      await Promise.race([new Promise<void>((r) => (this.#wake = r)), timeout(deadline - Date.now())]);
      answer = this.#replies.find(isStart);
    }
    if (answer) this.#replies.splice(this.#replies.indexOf(answer), 1);
    if (answer?.type !== 'ready') return false;
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.title = 'download';
    frame.src = answer.url;
    document.body.append(frame);
    // Leave the frame until the browser has taken the response over.
    setTimeout(() => frame.remove(), 30_000);
    return true;
  }

  close(): void {
    this.#ports.port1.close();
  }
}

const isStart = (reply: SwReply) => reply.type === 'ready' || reply.type === 'rejected';

async function channel(): Promise<SwChannel> {
  const worker = await activeServiceWorker();
  if (!worker) throw new FerryError('INTERNAL', 'This browser cannot save large files here.');
  return new SwChannel(worker);
}

const notStarted = () => new FerryError('INTERNAL', 'The download could not be started.');

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
  const sw = await channel();
  const alive: SwDownloadAlive = { type: 'download-alive', id: sw.id };
  // The page keeps the source, so it learns when the source ends or fails, or the reader stops.
  const copy = watched(stream, { stallMs: READER_STALL_MS, beatMs: BEAT_MS, beat: () => sw.worker.postMessage(alive) });
  try {
    sw.post({ type: 'download', id: sw.id, name, size, stream: copy.readable }, [
      copy.readable as unknown as Transferable,
    ]);
    if (!(await sw.start())) {
      await copy.readable.cancel().catch(() => {});
      throw notStarted();
    }
    const bytes = await copy.done;
    // The service worker says so once the browser has read the end of its response too.
    const delivered = await sw.next(READER_STALL_MS);
    if (delivered?.type !== 'delivered' || delivered.bytes !== bytes) {
      throw incomplete(
        `the browser read ${delivered?.type === 'delivered' ? delivered.bytes : 'not all'} of ${bytes} bytes`,
      );
    }
  } finally {
    sw.close();
  }
}

/**
 * What the page does while the service worker fetches a download itself; `file` is a
 * position in the `files` handed over.
 */
export interface FetchWatch {
  started?(file: number): void;
  /** Plaintext bytes of `file` the service worker has handed on so far. */
  progress(file: number, bytes: number): void;
  verified?(file: number): void;
  /** `file` failed (the download then fails with this error too). */
  failed?(file: number, error: FerryError): void;
  /** The final hash of `file`, for a file whose sender was still uploading (`blake3` null). */
  finalHash(file: number): (() => Promise<string>) | undefined;
}

/** What the service worker fetches: one file. */
export type FetchRequest = Omit<SwFetch, 'type' | 'id'>;

/**
 * Has the service worker fetch, decrypt, verify and save `request` itself (sw-fetch.ts),
 * for a browser that cannot transfer it a stream. Resolves once the browser has read all
 * `size` bytes of the verified file or archive; rejects with the file's own error code when
 * the worker reports a failure, and with DOWNLOAD_INCOMPLETE when the worker falls silent
 * (stopped) for READER_STALL_MS. The page renews the worker's lifetime every BEAT_MS
 * meanwhile, as for a streamed download.
 */
export async function fetchInServiceWorker(request: FetchRequest, size: number, watch: FetchWatch): Promise<void> {
  await follow(
    (id) => ({ type: 'download-fetch', id, ...request }),
    size,
    watch,
    () => {
      // The worker has its copy: this page's key bytes are no longer needed.
      request.file.keyBytes.fill(0);
    },
  );
}

/**
 * Has the service worker save files stored whole in OPFS, reading and verifying them itself
 * (sw-stored.ts): a file received from a nearby device, or a link's files staged first, one
 * as itself or several as one archive of `size` bytes; settles as `fetchInServiceWorker` does.
 */
export async function storedInServiceWorker(
  stored: Omit<SwStored, 'type' | 'id'>,
  size: number,
  watch: FetchWatch = { progress: () => {}, finalHash: () => undefined },
): Promise<void> {
  await follow((id) => ({ type: 'download-stored', id, ...stored }), size, watch);
}

/** Posts the message `make(id)` builds and follows the worker's replies until `delivered`. */
async function follow(
  make: (id: string) => SwFetch | SwStored,
  size: number,
  watch: FetchWatch,
  posted: () => void = () => {},
): Promise<void> {
  const sw = await channel();
  const alive: SwDownloadAlive = { type: 'download-alive', id: sw.id };
  const beat = setInterval(() => sw.worker.postMessage(alive), BEAT_MS);
  try {
    sw.post(make(sw.id));
    posted();
    if (!(await sw.start())) throw notStarted();
    let received = 0;
    for (;;) {
      const reply = await sw.next(READER_STALL_MS);
      if (reply === undefined) {
        throw incomplete(`${received} bytes received, then nothing from the service worker for 30 s`);
      }
      switch (reply.type) {
        case 'started':
          watch.started?.(reply.file);
          break;
        case 'progress':
          received = reply.bytes;
          watch.progress(reply.file, received);
          break;
        case 'verified':
          watch.verified?.(reply.file);
          break;
        case 'need-hash':
          void answerHash(sw, reply.file, watch.finalHash(reply.file));
          break;
        case 'failed': {
          const error = new FerryError(reply.code, reply.message);
          watch.failed?.(reply.file, error);
          throw error;
        }
        case 'delivered':
          if (reply.bytes !== size) throw incomplete(`the browser read ${reply.bytes} of ${size} bytes`);
          return;
        default:
          break;
      }
    }
  } finally {
    clearInterval(beat);
    sw.close();
  }
}

async function answerHash(sw: SwChannel, file: number, finalHash: (() => Promise<string>) | undefined): Promise<void> {
  try {
    if (!finalHash) throw new FerryError('FILE_HASH_MISMATCH', 'The file has no hash to verify against.');
    sw.answer({ type: 'hash', file, blake3: await finalHash() });
  } catch (error) {
    const failure = error instanceof FerryError ? error : new FerryError('FILE_HASH_MISMATCH', String(error));
    sw.answer({ type: 'hash-failed', file, code: failure.code, message: failure.message });
  }
}

function timeout(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms));
}
