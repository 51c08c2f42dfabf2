/**
 * The service worker's half of previews: it answers `/__preview/<session>/<name>` with the
 * plaintext of one file, honouring `Range` (206 with `Content-Range`, `Accept-Ranges:
 * bytes`), so <video>/<audio> can seek and <img>/PDF frames can load, without the file ever
 * being downloaded whole.
 *
 * For a request of plaintext [a, b) it fetches from the server only the ciphertext records
 * that hold [a, b), a window of WINDOW_RECORDS records at a time and only as the browser
 * reads (preview-range.ts), and opens every record with its tag, index and final flag
 * (shared/records.ts). A record that fails aborts the response, and the page is told why on
 * the session's port. What is NOT checked here is the whole-file BLAKE3 hash: that needs
 * every byte, so only a download checks it (the preview says so).
 *
 * Ciphertext is read with the visit's download ticket (visit-ticket.ts), so seeking costs
 * no further download: see ARCHITECTURE.md "Previews" for how previews count.
 */
import { type ErrorCode, FerryError, parseErrorBody } from '../../../../shared/errors.ts';
import { TICKET_HEADER } from '../../../../shared/headers.ts';
import { openRecords } from '../../../../shared/record-stream.ts';
import type { FileCipher } from '../../../../shared/records.ts';
import { previewFormat } from './preview-kind.ts';
import {
  PREVIEW_ERROR_HEADER,
  previewSessionOf,
  previewUrl,
  type SwPreviewEvent,
  type SwPreviewOpen,
} from './preview-messages.ts';
import { clipRecord, parseRange, recordsOf, type Span, windowOf } from './preview-range.ts';

/**
 * Records fetched per ciphertext request, at most: 4 × 64 KiB, so a seek fetches little
 * beyond what it plays. A response starts with one record and doubles up to this, because
 * a media element often reads a few bytes of a response and then cancels it.
 */
export const WINDOW_RECORDS = 4;
/**
 * A session its page has not renewed for this long is forgotten. Pages renew every 20 s, but
 * a hidden page's timers may run only once a minute.
 */
export const SESSION_IDLE_MS = 3 * 60_000;
/** Never sniffed, and opened as a page an opaque origin that runs nothing. */
const NO_SNIFF = { 'X-Content-Type-Options': 'nosniff' };
const SANDBOX = { 'Content-Security-Policy': "sandbox; default-src 'none'" };

interface Session {
  open: SwPreviewOpen;
  cipher: FileCipher;
  contentType: string;
  /** Only PDFs are shown as a document (the browser's viewer); everything else is sandboxed. */
  document: boolean;
  port: MessagePort | null;
  /** Ciphertext ranges this session has fetched, to continue from after the server's piece cap. */
  pieces: Span[];
  idle: ReturnType<typeof setTimeout>;
}

export class PreviewSessions {
  readonly #sessions = new Map<string, Session>();

  /** Opens or renews a session and answers `preview-ready` on `port`. */
  open(message: SwPreviewOpen, port: MessagePort | null): void {
    const format = previewFormat(message.name, message.mime);
    if (!format) return;
    const known = this.#sessions.get(message.session);
    if (known) {
      clearTimeout(known.idle);
      if (known.port !== port) known.port?.close();
    }
    const { key, nonceBase, size, recordSize, name } = message;
    this.#sessions.set(message.session, {
      open: message,
      cipher: { key, nonceBase, size, recordSize, name },
      contentType: format.type,
      document: format.kind === 'pdf',
      port,
      pieces: known?.pieces ?? [],
      idle: setTimeout(() => this.close(message.session), SESSION_IDLE_MS),
    });
    const ready: SwPreviewEvent = {
      type: 'preview-ready',
      session: message.session,
      url: previewUrl(message.session, message.name),
    };
    port?.postMessage(ready);
  }

  close(session: string): void {
    const known = this.#sessions.get(session);
    if (!known) return;
    clearTimeout(known.idle);
    known.port?.close();
    this.#sessions.delete(session);
  }

  /** The answer to a GET or HEAD of /__preview/<session>/<name>. */
  async answer(request: Request, pathname: string): Promise<Response> {
    const id = previewSessionOf(pathname);
    const session = id === undefined ? undefined : this.#sessions.get(id);
    if (!session) return plain(404, 'This preview is closed. Open it again from the file list.');
    if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, 'Previews are read-only.');
    const { size } = session.cipher;
    const range = parseRange(request.headers.get('Range'), size);
    if (range.kind === 'unsatisfiable') {
      return new Response(null, {
        status: 416,
        headers: { 'Content-Range': `bytes */${size}`, ...NO_SNIFF, ...SANDBOX },
      });
    }
    const span = range.kind === 'partial' ? { start: range.start, end: range.end } : { start: 0, end: size };
    const headers = new Headers({
      'Content-Type': session.contentType,
      'Content-Length': String(span.end - span.start),
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-store',
      ...NO_SNIFF,
      // A PDF is the one document shown: the browser's viewer does not open in a sandbox.
      ...(session.document ? {} : SANDBOX),
    });
    const status = range.kind === 'partial' ? 206 : 200;
    if (status === 206) headers.set('Content-Range', `bytes ${span.start}-${span.end - 1}/${size}`);
    if (request.method === 'HEAD' || span.end === span.start) return new Response(null, { status, headers });
    try {
      return new Response(await this.#plaintext(session, span, request.signal), { status, headers });
    } catch (error) {
      const failure = asFerryError(error, session.cipher.name);
      // A request the page gave up on (a seek, a closed dialog) is no failure to show.
      if (!request.signal.aborted) this.#report(session, failure);
      return plain(502, failure.message, failure.code);
    }
  }

  /**
   * The plaintext of `span` as a stream that fetches one window of records per read. The
   * first window is fetched before answering, so a bad first record or a refused ticket
   * becomes an error status instead of a broken body. The page aborting `request` (or
   * cancelling the body) aborts the fetch in flight.
   */
  async #plaintext(session: Session, span: Span, request: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const abort = new AbortController();
    const stop = () => abort.abort(request.reason);
    if (request.aborted) stop();
    else request.addEventListener('abort', stop, { once: true });
    const { first, last } = recordsOf(session.cipher, span);
    let next = first;
    let windowRecords = 1;
    const readWindow = async (): Promise<Uint8Array[]> => {
      const window = windowOf(session.cipher, next, last, windowRecords);
      windowRecords = Math.min(WINDOW_RECORDS, windowRecords * 2);
      const sealed = await this.#fetchCiphertext(session, window.cipher, abort.signal);
      const opened = await openRecords(session.cipher, window.first, sealed);
      next = window.last + 1;
      return opened.map(({ index, plain }) => clipRecord(session.cipher, index, plain, span));
    };
    let pending = await readWindow();
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            if (pending.length === 0) pending = await readWindow();
            for (const chunk of pending) controller.enqueue(chunk);
            pending = [];
            if (next > last) controller.close();
          } catch (error) {
            const failure = asFerryError(error, session.cipher.name);
            if (!abort.signal.aborted) this.#report(session, failure);
            controller.error(failure);
          }
        },
        cancel: (reason) => abort.abort(reason),
      },
      // Nothing is fetched ahead of what the browser reads.
      { highWaterMark: 0 },
    );
  }

  /**
   * Exactly ciphertext [start, end) under the session's ticket. The server lets one ticket
   * read a file in at most 64 separate pieces; past that (416) a seek continues from the end
   * of the nearest piece before it, which the server always accepts, and drops the extra bytes.
   */
  async #fetchCiphertext(session: Session, span: Span, signal: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
    let response = await this.#get(session, span, signal);
    let from = span.start;
    if (response.status === 416) {
      from = session.pieces.reduce((best, p) => (p.end <= span.start && p.end > best ? p.end : best), 0);
      response = await this.#get(session, { start: from, end: span.end }, signal);
    }
    if (!response.ok) throw await errorOf(response, session.cipher.name);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length !== span.end - from) {
      throw new FerryError(
        'FILE_NOT_READY',
        `${session.cipher.name}: this part is not on the server yet. Try the preview again when the sender has finished.`,
      );
    }
    // Consecutive windows extend one piece, so the list stays as short as the server's.
    const joined = session.pieces.find((p) => p.start <= from && from <= p.end);
    if (joined) joined.end = Math.max(joined.end, span.end);
    else session.pieces.push({ start: from, end: span.end });
    return bytes.slice(span.start - from);
  }

  #get({ open }: Session, span: Span, signal: AbortSignal): Promise<Response> {
    const url = `/api/shares/${open.shareId}/files/${open.index}`;
    const headers = {
      Authorization: `Bearer ${open.readerToken}`,
      [TICKET_HEADER]: open.ticket,
      Range: `bytes=${span.start}-${span.end - 1}`,
    };
    return fetch(url, { headers, signal, cache: 'no-store' });
  }

  #report(session: Session, failure: FerryError): void {
    const event: SwPreviewEvent = {
      type: 'preview-failed',
      session: session.open.session,
      code: failure.code,
      message: failure.message,
    };
    session.port?.postMessage(event);
  }
}

async function errorOf(response: Response, name: string): Promise<FerryError> {
  const body = parseErrorBody(await response.json().catch(() => undefined));
  const code: ErrorCode = body?.code ?? (response.status === 401 ? 'UNAUTHORIZED' : 'NETWORK_ERROR');
  return new FerryError(code, body?.message ?? `${name}: the server answered ${response.status}.`);
}

function asFerryError(error: unknown, name: string): FerryError {
  if (error instanceof FerryError) return error;
  return new FerryError('NETWORK_ERROR', `${name}: the preview could not be read.`, { cause: error });
}

/** An error answer: its text may hold the sender's file name, so it is never run as a page either. */
function plain(status: number, message: string, code?: ErrorCode): Response {
  const headers = new Headers({ 'Content-Type': 'text/plain; charset=utf-8', ...NO_SNIFF, ...SANDBOX });
  if (code) headers.set(PREVIEW_ERROR_HEADER, code);
  return new Response(message, { status, headers });
}
