/**
 * The page's end of a streamed download, watched: a download whose reader stops taking
 * bytes (the service worker was stopped, the browser dropped the response) must end as a
 * failure the page states, never as a page waiting forever at 88 %.
 *
 * `watched(source)` gives a pull-driven copy of `source` (high-water mark 0: a chunk is read
 * from `source` only when the reader asks for one) and a promise, `done`.
 * Invariant: `done` resolves only once the reader has asked for the end of the stream, that
 * is after it took every chunk; it rejects with DOWNLOAD_INCOMPLETE when the reader has not
 * asked for the next chunk within `stallMs` of the last one, or cancelled, and with
 * `source`'s own error when `source` fails (a record that does not verify). On any failure
 * the copy errors, so a reader still there makes the browser mark its download failed.
 */
import { FerryError } from '../../../../shared/errors.ts';

/** How often the page renews the service worker's lifetime, and hears from it, while a download streams. */
export const BEAT_MS = 1_000;
/**
 * The browser not reading the next chunk for this long means the download stopped (its
 * service worker was stopped, or the download was cancelled in the browser): a browser
 * reads a download's body as fast as its disk takes it, also while a Save dialog is open.
 */
export const READER_STALL_MS = 30_000;

export interface Watch {
  /** The reader not asking for the next chunk for this long means it stopped. */
  stallMs: number;
  /** `beat` is called at most this often while the stream runs (chunks, or a timer). */
  beatMs: number;
  beat(): void;
}

export interface Watched {
  readable: ReadableStream<Uint8Array>;
  /** Bytes the reader took, once it took them all; see the module's invariant. */
  done: Promise<number>;
}

/** Error of a download whose reader stopped before the last byte. */
export function incomplete(detail: string, cause?: unknown): FerryError {
  return new FerryError('DOWNLOAD_INCOMPLETE', `The download stopped before its last byte (${detail}).`, { cause });
}

/** A watched, pull-driven copy of `source` (see the module's invariant). */
export function watched(source: ReadableStream<Uint8Array>, watch: Watch): Watched {
  const reader = source.getReader();
  let taken = 0;
  let last = 0;
  let stall: ReturnType<typeof setTimeout> | undefined;
  let settled = false;
  let resolveDone!: (bytes: number) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<number>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  const beat = (): void => {
    const now = Date.now();
    if (now - last < watch.beatMs) return;
    last = now;
    watch.beat();
  };
  // Chunks drive the beat in a background tab, where timers may be throttled to one a
  // minute; the timer covers a slow source.
  const timer = setInterval(beat, watch.beatMs);
  const settle = (error?: unknown): void => {
    if (settled) return;
    settled = true;
    clearInterval(timer);
    clearTimeout(stall);
    if (error === undefined) resolveDone(taken);
    else rejectDone(error);
  };
  const readable = new ReadableStream<Uint8Array>(
    {
      start: () => beat(),
      pull: async (controller) => {
        clearTimeout(stall);
        beat();
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          controller.error(error);
          settle(error);
          return;
        }
        if (settled) return;
        if (chunk.done) {
          controller.close();
          settle();
          return;
        }
        controller.enqueue(chunk.value);
        const before = taken;
        taken += chunk.value.byteLength;
        stall = setTimeout(() => {
          const error = incomplete(`${before} bytes taken, then nothing for ${Math.round(watch.stallMs / 1000)} s`);
          controller.error(error);
          reader.cancel(error).catch(() => {});
          settle(error);
        }, watch.stallMs);
      },
      cancel: async (reason) => {
        const error = incomplete(`the browser stopped it after ${taken} bytes`, reason);
        settle(error);
        await reader.cancel(error).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
  return { readable, done };
}
