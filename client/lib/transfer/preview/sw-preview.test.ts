import { afterEach, describe, expect, it, vi } from 'vitest';
import { importAesKey } from '../../../../shared/keys.ts';
import { encryptRange } from '../../../../shared/record-aead.ts';
import { encryptedSize, type FileCipher } from '../../../../shared/records.ts';
import { PREVIEW_ERROR_HEADER, type SwPreviewEvent, type SwPreviewOpen } from './preview-messages.ts';
import { PreviewSessions, SESSION_IDLE_MS, WINDOW_RECORDS } from './sw-preview.ts';

const RECORD = 1024;
const SIZE = 20 * RECORD + 300;
const session = 'S'.repeat(22);
const ticket = 't'.repeat(43);

/** A file, its ciphertext on a fake server that honours one Range, and a session for it. */
async function setup(size = SIZE) {
  const plain = new Uint8Array(size).map((_, i) => (i * 7) % 251);
  const key = await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
  const nonceBase = crypto.getRandomValues(new Uint8Array(12));
  const cipher: FileCipher = { key, nonceBase, size, recordSize: RECORD, name: 'clip.webm' };
  const stored = await encryptRange(cipher, async (s, e) => plain.slice(s, e), 0, encryptedSize(cipher));
  const requests: { range: string; ticket: string | null }[] = [];
  const server = { stored, status: 206 as number };
  vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    const range = headers.get('Range') ?? '';
    requests.push({ range, ticket: headers.get('Ferry-Ticket') });
    if (server.status !== 206) {
      const body = { error: { code: server.status === 401 ? 'UNAUTHORIZED' : 'INVALID_RANGE', message: 'no' } };
      return new Response(JSON.stringify(body), { status: server.status });
    }
    const [a = 0, b = 0] = /bytes=(\d+)-(\d+)/.exec(range)?.slice(1).map(Number) ?? [];
    return new Response(server.stored.slice(a, b + 1), { status: 206 });
  });
  const events: SwPreviewEvent[] = [];
  const port = { postMessage: (e: SwPreviewEvent) => events.push(e), close: () => {} } as unknown as MessagePort;
  const open: SwPreviewOpen = {
    type: 'preview-open',
    session,
    name: 'clip.webm',
    mime: 'video/webm',
    size,
    recordSize: RECORD,
    nonceBase,
    key,
    shareId: 'abcdefghijklmnop',
    index: 0,
    readerToken: 'r'.repeat(43),
    ticket,
  };
  const sessions = new PreviewSessions();
  sessions.open(open, port);
  const get = (range?: string, method = 'GET') =>
    sessions.answer(
      new Request(`https://ferry.test/__preview/${session}/clip.webm`, {
        method,
        headers: range ? { Range: range } : {},
      }),
      `/__preview/${session}/clip.webm`,
    );
  return { plain, stored, server, requests, events, sessions, get, open };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('PreviewSessions', () => {
  it('says ready on the port, and answers a Range with 206 and exactly those bytes', async () => {
    const { plain, requests, events, get } = await setup();
    expect(events).toEqual([{ type: 'preview-ready', session, url: `/__preview/${session}/clip.webm` }]);
    const response = await get('bytes=1500-2600');
    expect(response.status).toBe(206);
    expect(response.headers.get('Content-Range')).toBe(`bytes 1500-2600/${SIZE}`);
    expect(response.headers.get('Accept-Ranges')).toBe('bytes');
    expect(response.headers.get('Content-Length')).toBe('1101');
    expect(response.headers.get('Content-Type')).toBe('video/webm');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(plain.slice(1500, 2601));
    // Records 1 and 2 only, as exact ciphertext, with the visit's ticket: one record first.
    expect(requests).toEqual([
      { range: `bytes=${1 * 1040}-${2 * 1040 - 1}`, ticket },
      { range: `bytes=${2 * 1040}-${3 * 1040 - 1}`, ticket },
    ]);
  });

  it('reads an open range one window at a time, only as far as it is read', async () => {
    const { plain, requests, get } = await setup();
    const response = await get('bytes=15000-');
    expect(response.headers.get('Content-Range')).toBe(`bytes 15000-${SIZE - 1}/${SIZE}`);
    const reader = response.body?.getReader();
    const first = await reader?.read();
    expect(first?.value).toEqual(plain.slice(15000, 15 * RECORD));
    expect(requests).toHaveLength(1);
    await reader?.cancel();
    expect(requests[0]?.range).toBe(`bytes=${14 * 1040}-${15 * 1040 - 1}`);
  });

  it('answers the whole file without a Range, sandboxed, and HEAD without fetching', async () => {
    const { plain, requests, get } = await setup();
    const head = await get(undefined, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('Content-Length')).toBe(String(SIZE));
    expect(requests).toHaveLength(0);
    const whole = await get();
    expect(whole.headers.get('Content-Security-Policy')).toContain('sandbox');
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(plain);
    // Windows of 1, 2, 4, then WINDOW_RECORDS records: 21 records.
    const sizes = requests.map((r) => {
      const [a = 0, b = 0] = /(\d+)-(\d+)/.exec(r.range)?.slice(1).map(Number) ?? [];
      return Math.ceil((b + 1 - a) / 1040);
    });
    expect(sizes).toEqual([1, 2, 4, 4, 4, 4, 2]);
    expect(Math.max(...sizes)).toBe(WINDOW_RECORDS);
  });

  it('refuses a range past the end (416) and forgets closed sessions (404)', async () => {
    const { sessions, get } = await setup();
    const past = await get(`bytes=${SIZE}-`);
    expect(past.status).toBe(416);
    expect(past.headers.get('Content-Range')).toBe(`bytes */${SIZE}`);
    sessions.close(session);
    expect((await get('bytes=0-10')).status).toBe(404);
  });

  it('fails a tampered first record with 502 and tells the page which record', async () => {
    const { stored, events, get } = await setup();
    stored[5 * 1040 + 9] = (stored[5 * 1040 + 9] ?? 0) ^ 1;
    const response = await get('bytes=5200-5300');
    expect(response.status).toBe(502);
    expect(events.at(-1)).toMatchObject({ type: 'preview-failed', code: 'RECORD_AUTH_FAILED' });
    expect(events.at(-1)?.type === 'preview-failed' && events.at(-1)).toMatchObject({
      message: 'clip.webm: record 5 failed verification.',
    });
  });

  it('errors the body when a later record is tampered with', async () => {
    const { stored, events, get } = await setup();
    stored[10 * 1040 + 3] = (stored[10 * 1040 + 3] ?? 0) ^ 1;
    const response = await get('bytes=0-');
    expect(response.status).toBe(206);
    await expect(response.arrayBuffer()).rejects.toThrow();
    expect(events.at(-1)).toMatchObject({ type: 'preview-failed', code: 'RECORD_AUTH_FAILED' });
  });

  it('a renewal replaces the port and keeps serving; an unrenewed session is forgotten', async () => {
    const { sessions, get, open, plain } = await setup();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const renewed: SwPreviewEvent[] = [];
      const old = { closed: false };
      const port = { postMessage: (e: SwPreviewEvent) => renewed.push(e), close: () => {} } as unknown as MessagePort;
      sessions.open(open, { postMessage: () => {}, close: () => (old.closed = true) } as unknown as MessagePort);
      sessions.open(open, port);
      expect(old.closed).toBe(true);
      expect(renewed).toHaveLength(1);
      expect(new Uint8Array(await (await get('bytes=0-9')).arrayBuffer())).toEqual(plain.slice(0, 10));
      await vi.advanceTimersByTimeAsync(SESSION_IDLE_MS);
      expect((await get('bytes=0-9')).status).toBe(404);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports a lapsed ticket', async () => {
    const { server, events, get } = await setup();
    server.status = 401;
    expect((await get('bytes=0-10')).status).toBe(502);
    expect(events.at(-1)).toMatchObject({ type: 'preview-failed', code: 'UNAUTHORIZED' });
  });

  it('past the server’s piece cap, continues from the end of an earlier piece', async () => {
    const { plain, server, requests, get } = await setup();
    await (await get('bytes=0-100')).arrayBuffer();
    const fetchStub = globalThis.fetch;
    let refused = false;
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      const range = new Headers(init.headers).get('Range');
      if (!refused && range !== 'bytes=0-') {
        refused = true;
        requests.push({ range: range ?? '', ticket: null });
        return new Response('{}', { status: 416 });
      }
      return fetchStub(url, init);
    });
    server.status = 206;
    const response = await get('bytes=3000-3100');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(plain.slice(3000, 3101));
    // Record 2, refused; then fetched from the end of the first piece (record 0); then record 3.
    expect(requests.slice(-3).map((r) => r.range)).toEqual([
      `bytes=${2 * 1040}-${3 * 1040 - 1}`,
      `bytes=1040-${3 * 1040 - 1}`,
      `bytes=${3 * 1040}-${4 * 1040 - 1}`,
    ]);
  });

  it('serves the last byte, a range across the final record, and a suffix, on a file of exactly N records', async () => {
    const size = 8 * RECORD;
    const { plain, requests, get } = await setup(size);
    const last = await get(`bytes=${size - 1}-${size - 1}`);
    expect(last.status).toBe(206);
    expect(last.headers.get('Content-Range')).toBe(`bytes ${size - 1}-${size - 1}/${size}`);
    expect(new Uint8Array(await last.arrayBuffer())).toEqual(plain.slice(size - 1));
    // Record 7 is full and final: exactly its ciphertext, nothing past the end.
    expect(requests.at(-1)?.range).toBe(`bytes=${7 * 1040}-${8 * 1040 - 1}`);
    const across = await get(`bytes=${6 * RECORD - 10}-`);
    expect(new Uint8Array(await across.arrayBuffer())).toEqual(plain.slice(6 * RECORD - 10));
    const suffix = await get('bytes=-1500');
    expect(suffix.headers.get('Content-Range')).toBe(`bytes ${size - 1500}-${size - 1}/${size}`);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(plain.slice(size - 1500));
  });

  it('answers an empty file: 200 and no body without a Range, 416 with one', async () => {
    const { requests, get } = await setup(0);
    const whole = await get();
    expect(whole.status).toBe(200);
    expect(whole.headers.get('Content-Length')).toBe('0');
    expect((await whole.arrayBuffer()).byteLength).toBe(0);
    const ranged = await get('bytes=0-');
    expect(ranged.status).toBe(416);
    expect(ranged.headers.get('Content-Range')).toBe('bytes */0');
    expect(requests).toHaveLength(0);
  });

  it('answers several ranges or a nonsense Range with the whole file (RFC 9110 §14.2)', async () => {
    const { plain, get } = await setup();
    for (const header of ['bytes=0-1,5-6', 'bytes=9-1', 'bytes=x-']) {
      const response = await get(header);
      expect(response.status).toBe(200);
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(plain);
    }
  });

  it('marks every answer nosniff and sandboxed, errors included, since they carry the sender’s file name', async () => {
    const { stored, sessions, get } = await setup();
    stored[9] = (stored[9] ?? 0) ^ 1;
    const answers = [await get('bytes=0-10'), await get(`bytes=${SIZE}-`), await get(undefined, 'POST')];
    sessions.close(session);
    answers.push(await get());
    expect(answers.map((r) => r.status)).toEqual([502, 416, 405, 404]);
    // A page reading the URL itself learns the code without waiting for the port.
    expect(answers[0]?.headers.get(PREVIEW_ERROR_HEADER)).toBe('RECORD_AUTH_FAILED');
    for (const response of answers) {
      expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
      expect(response.headers.get('Content-Security-Policy')).toContain('sandbox');
    }
  });

  it('a request the page aborts stops its ciphertext fetch and reports nothing', async () => {
    const { events, sessions } = await setup();
    const fetched: AbortSignal[] = [];
    vi.stubGlobal('fetch', (_url: string, init: RequestInit) => {
      const signal = init.signal as AbortSignal;
      fetched.push(signal);
      // A server that never answers: only an abort ends this fetch.
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    const page = new AbortController();
    const request = new Request(`https://ferry.test/__preview/${session}/clip.webm`, {
      headers: { Range: 'bytes=0-' },
      signal: page.signal,
    });
    const answered = sessions.answer(request, `/__preview/${session}/clip.webm`);
    await vi.waitFor(() => expect(fetched).toHaveLength(1));
    page.abort();
    await answered;
    expect(fetched[0]?.aborted).toBe(true);
    expect(events.filter((e) => e.type === 'preview-failed')).toEqual([]);
  });

  it('serves the canonical type: a PDF unsandboxed for the browser’s viewer, HTML only as sandboxed plain text', async () => {
    const { open, sessions, plain } = await setup();
    const served = async (name: string, mime: string) => {
      const id = name.replace(/\W/g, '').padStart(22, 'P');
      sessions.open({ ...open, session: id, name, mime }, null);
      const response = await sessions.answer(
        new Request(`https://ferry.test/__preview/${id}/x`, { headers: { Range: 'bytes=0-9' } }),
        `/__preview/${id}/x`,
      );
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(plain.slice(0, 10));
      const headers = response.headers;
      return [
        headers.get('Content-Type'),
        headers.get('X-Content-Type-Options'),
        headers.get('Content-Security-Policy'),
      ];
    };
    expect(await served('paper.pdf', 'application/pdf')).toEqual(['application/pdf', 'nosniff', null]);
    const sandboxed = ['text/plain; charset=utf-8', 'nosniff', "sandbox; default-src 'none'"];
    expect(await served('page.html', 'text/html')).toEqual(sandboxed);
    // The manifest's type wins over the name: a ".pdf" said to be HTML is still only text.
    expect(await served('invoice.pdf', 'text/html; charset=utf-8')).toEqual(sandboxed);
  });
});
