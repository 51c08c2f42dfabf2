/**
 * How a failed preview reads. Vitest does not compile runes here, so `$state` is stubbed as
 * the identity (as in receive-session.test.ts): this checks logic, not reactivity.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import { importAesKey } from '../../../../shared/keys.ts';
import { parseSwPreviewMessage } from './preview-messages.ts';
import type { PreviewSource } from './preview-session.ts';
import { PreviewSessions } from './sw-preview.ts';

vi.hoisted(() => {
  (globalThis as Record<string, unknown>).$state = <T>(value: T): T => value;
});

vi.mock('../receive/sw-download.ts', () => ({ activeServiceWorker: async () => ({}) }));

const { FilePreview, previewFailure } = await import('./file-preview.svelte.ts');

describe('previewFailure', () => {
  it('names the file and the record that failed verification', () => {
    const error = new FerryError('RECORD_AUTH_FAILED', 'clip.webm: record 21 failed verification.');
    expect(previewFailure('clip.webm', error)).toBe(
      'clip.webm failed verification: record 21 was altered or damaged on the way, so the preview stopped. Do not trust this file.',
    );
  });

  it('says what to do after a lapsed ticket, and why a gone share cannot be previewed', () => {
    expect(previewFailure('a.png', new FerryError('UNAUTHORIZED', 'no'))).toBe(
      'The preview of a.png has lapsed after a long pause. Close it and open it again.',
    );
    expect(previewFailure('a.png', new FerryError('SHARE_REVOKED', 'The share was revoked.'))).toBe(
      'a.png can no longer be previewed: The share was revoked.',
    );
    expect(previewFailure('a.png', new Error('boom'))).toBe('a.png could not be previewed.');
  });
});

describe('FilePreview', () => {
  it('an element that cannot show the file fails the preview with one sentence naming it', () => {
    const preview = new FilePreview('a.png', 'image', () => Promise.reject(new Error('not used')));
    expect(preview.phase).toBe('opening');
    preview.elementFailed();
    expect(preview.phase).toBe('failed');
    expect(preview.failure).toBe('a.png cannot be shown in this browser. Download it instead.');
    preview.elementFailed();
    expect(preview.failure).toBe('a.png cannot be shown in this browser. Download it instead.');
  });
});

/**
 * A page with a controlling worker that runs the real PreviewSessions (sw-preview.ts): the
 * worker's `preview-ready` is held until `answer()` is called, so a test can act in between.
 */
function fakeWorker(server: (url: string) => Response = () => new Response(null, { status: 500 })) {
  const sessions = new PreviewSessions();
  const sent: { type: string }[] = [];
  const waiting: (() => void)[] = [];
  const controller = {
    postMessage(data: unknown, transfer: MessagePort[] = []) {
      sent.push(data as { type: string });
      const message = parseSwPreviewMessage(data);
      if (message?.type === 'preview-close') sessions.close(message.session);
      else if (message) waiting.push(() => sessions.open(message, transfer[0] ?? null));
    },
  };
  vi.stubGlobal('navigator', { serviceWorker: { controller } });
  // The page's fetches go to the worker; the worker's own (ciphertext from /api) to `server`.
  vi.stubGlobal('fetch', async (url: string, init?: RequestInit) =>
    url.startsWith('/api/') ? server(url) : sessions.answer(new Request(new URL(url, 'https://ferry.test'), init), url),
  );
  /** Lets the worker answer every open it has received. */
  const answer = () => {
    for (const reply of waiting.splice(0)) reply();
  };
  const opens = () => sent.filter((m) => m.type === 'preview-open').length;
  return { sent, answer, opens, waiting };
}

async function sourceOf(name: string, mime: string, size: number): Promise<PreviewSource> {
  const key = await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
  return {
    name,
    mime,
    size,
    recordSize: 65536,
    nonceBase: crypto.getRandomValues(new Uint8Array(12)),
    key,
    shareId: 'abcdefghijklmnop',
    index: 0,
    readerToken: 'r'.repeat(43),
    ticket: 't'.repeat(43),
  };
}

/** Resolves once `check` holds, polling the event loop (MessagePort delivery is not a microtask). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !check(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(check()).toBe(true);
}

/** Starts `preview` and lets `worker` answer its first open. */
async function opened(worker: ReturnType<typeof fakeWorker>, preview: InstanceType<typeof FilePreview>): Promise<void> {
  const started = preview.start();
  await until(() => worker.waiting.length === 1);
  worker.answer();
  await started;
}

describe('FilePreview with a service worker', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('closed while the worker is still answering, never hands the key over again', async () => {
    const worker = fakeWorker();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    const preview = new FilePreview('clip.webm', 'video', () => sourceOf('clip.webm', 'video/webm', 5000));
    const started = preview.start();
    await until(() => worker.waiting.length === 1);
    preview.close();
    worker.answer();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    await started;
    expect(preview.failure).toBeNull();
    expect(worker.opens()).toBe(1);
    expect(worker.sent.at(-1)).toMatchObject({ type: 'preview-close' });
  });

  it('an open video preview renews its session until it is closed', async () => {
    const worker = fakeWorker();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const preview = new FilePreview('clip.webm', 'video', () => sourceOf('clip.webm', 'video/webm', 5000));
    await opened(worker, preview);
    expect(preview.phase).toBe('ready');
    vi.advanceTimersByTime(60_000);
    expect(worker.opens()).toBe(4);
    preview.close();
    vi.advanceTimersByTime(60_000);
    expect(worker.opens()).toBe(4);
  });

  it('renews with the worker that controls the page now, after an update replaced the first', async () => {
    const first = fakeWorker();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const preview = new FilePreview('clip.webm', 'video', () => sourceOf('clip.webm', 'video/webm', 5000));
    await opened(first, preview);
    // Another tab chose "Reload": the new worker claims this page too and knows no session.
    const second = fakeWorker();
    vi.advanceTimersByTime(20_000);
    expect(second.opens()).toBe(1);
    expect(first.opens()).toBe(1);
    preview.close();
  });

  it('shows an empty text file as empty text', async () => {
    const worker = fakeWorker();
    const preview = new FilePreview('empty.txt', 'text', () => sourceOf('empty.txt', 'text/plain', 0));
    await opened(worker, preview);
    expect(preview.failure).toBeNull();
    expect(preview.phase).toBe('ready');
    expect(preview.text).toBe('');
    expect(preview.truncated).toBe(false);
  });

  it('a text preview of a revoked share says so, whichever of the worker’s answers arrives first', async () => {
    const revoked = { error: { code: 'SHARE_REVOKED', message: 'The sender has deleted this share.' } };
    const worker = fakeWorker(() => new Response(JSON.stringify(revoked), { status: 410 }));
    const preview = new FilePreview('notes.txt', 'text', () => sourceOf('notes.txt', 'text/plain', 5000));
    await opened(worker, preview);
    expect(preview.phase).toBe('failed');
    expect(preview.failure).toBe('notes.txt can no longer be previewed: The sender has deleted this share.');
  });
});
