/**
 * One open preview, on the page: it hands the service worker a preview session for one file
 * (sw-preview.ts answers `/__preview/<session>/<name>` from it), renews that session while
 * the preview stays open — which also keeps the worker alive, and restores the session if the
 * browser stopped an idle worker — and ends it on close. Text is read here (its first
 * TEXT_LIMIT bytes, through the same URL) and shown as text; images, media and PDFs load
 * the URL themselves.
 */
import { toBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { isShareGone } from '../receive/receive-errors.ts';
import type { PreviewKind } from './preview-kind.ts';
import { closeSession, controllingWorker, openSession, type PreviewSource, readPlain } from './preview-session.ts';

export type PreviewPhase = 'opening' | 'ready' | 'failed';

/** Text previews show at most this many bytes from the start of the file. */
export const TEXT_LIMIT = 256 * 1024;
/** How often an open preview renews its session (the worker forgets it after SESSION_IDLE_MS). */
const RENEW_MS = 20_000;

export class FilePreview {
  readonly name: string;
  readonly kind: PreviewKind;
  readonly #load: () => Promise<PreviewSource>;
  readonly #session = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  #phase = $state<PreviewPhase>('opening');
  #url = $state<string | null>(null);
  #text = $state<string | null>(null);
  #truncated = $state(false);
  #failure = $state<string | null>(null);
  #port: MessagePort | null = null;
  #renew: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** The failure shown is elementFailed()'s guess, not a reason from the worker. */
  #guessed = false;

  /** `load` gets the file's cipher and the visit's ticket; it is called once, by start(). */
  constructor(name: string, kind: PreviewKind, load: () => Promise<PreviewSource>) {
    this.name = name;
    this.kind = kind;
    this.#load = load;
  }

  get phase(): PreviewPhase {
    return this.#phase;
  }
  /** Where the preview is served, once ready. */
  get url(): string | null {
    return this.#url;
  }
  /** A text preview's content (its first TEXT_LIMIT bytes as UTF-8). */
  get text(): string | null {
    return this.#text;
  }
  /** True when the text preview shows only the start of the file. */
  get truncated(): boolean {
    return this.#truncated;
  }
  /** One sentence for role=alert when the preview failed. */
  get failure(): string | null {
    return this.#failure;
  }

  async start(): Promise<void> {
    try {
      const worker = await controllingWorker();
      const source = await this.#load();
      if (this.#closed) return;
      const url = await this.#open(worker, source);
      if (this.kind === 'text') {
        // Text is read once and kept on the page: the worker needs the key no longer.
        await this.#readText(url, source.size).finally(() => this.#endSession());
      } else {
        this.#renew = setInterval(() => {
          // An update may have replaced the worker (it claims open pages): renew with the new one.
          const current = navigator.serviceWorker?.controller ?? worker;
          this.#open(current, source).catch((error: unknown) => this.#fail(error));
        }, RENEW_MS);
      }
      if (this.#closed) return;
      this.#url = url;
      if (this.#phase === 'opening') this.#phase = 'ready';
    } catch (error) {
      this.#fail(error);
    }
  }

  /** The image or media element could not show the file; the worker's reason wins if it sent one. */
  elementFailed(): void {
    if (this.#failure !== null) return;
    this.#fail(new FerryError('BAD_REQUEST', `${this.name} cannot be shown in this browser. Download it instead.`));
    this.#guessed = true;
  }

  /** Closes the preview and ends its session. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#endSession();
  }

  /** The worker forgets the key and answers 404 from now on; what is shown stays. */
  #endSession(): void {
    clearInterval(this.#renew);
    closeSession(this.#session, this.#port);
  }

  /** Sends (or renews) the session and waits for the worker's `preview-ready`. */
  #open(worker: ServiceWorker, source: PreviewSource): Promise<string> {
    this.#port?.close();
    const { port, ready } = openSession(worker, this.#session, source, (error) => this.#fail(error));
    this.#port = port;
    return ready;
  }

  async #readText(url: string, size: number): Promise<void> {
    // Any Range of an empty file is unsatisfiable (416, RFC 9110 §14.1.1): nothing to read.
    if (size === 0) {
      this.#text = '';
      return;
    }
    const bytes = await readPlain(url, 0, TEXT_LIMIT);
    // stream: true leaves out a character cut in half at the limit.
    this.#text = new TextDecoder('utf-8').decode(bytes, { stream: size > TEXT_LIMIT });
    this.#truncated = size > TEXT_LIMIT;
  }

  /** The first real failure is kept; only elementFailed()'s guess gives way to a later reason. */
  #fail(error: unknown): void {
    if (this.#closed || (this.#failure !== null && !this.#guessed)) return;
    this.#guessed = false;
    this.#failure = previewFailure(this.name, error);
    this.#phase = 'failed';
  }
}

/** One sentence for a failed preview, naming the file. */
export function previewFailure(name: string, error: unknown): string {
  if (!(error instanceof FerryError)) return `${name} could not be previewed.`;
  if (error.code === 'RECORD_AUTH_FAILED' || error.code === 'RECORD_TRUNCATED') {
    const record = /record (\d+)/.exec(error.message)?.[1] ?? '?';
    return `${name} failed verification: record ${record} was altered or damaged on the way, so the preview stopped. Do not trust this file.`;
  }
  if (error.code === 'UNAUTHORIZED') {
    return `The preview of ${name} has lapsed after a long pause. Close it and open it again.`;
  }
  if (isShareGone(error.code)) return `${name} can no longer be previewed: ${error.message}`;
  return error.message.startsWith(name) ? error.message : `${name} could not be previewed: ${error.message}`;
}
