import { afterEach, describe, expect, it, vi } from 'vitest';
import { cipherRange, encryptedSize, type RecordLayout } from '../../../shared/records.ts';
import { type RelayFileRead, readFromRelay } from './relay-download.ts';

const layout: RecordLayout = { size: 10 * 1024 - 100, recordSize: 1024 };
/** Stand-in ciphertext: byte i is i mod 251, so any misplaced byte shows. */
const cipher = Uint8Array.from({ length: encryptedSize(layout) }, (_, i) => i % 251);

function answer(status: number, body: Uint8Array<ArrayBuffer> | string, contentRange?: string): Response {
  const headers: Record<string, string> = {};
  if (contentRange) headers['Content-Range'] = contentRange;
  return new Response(body, { status, headers });
}

/** File 0 of a relay share, read from record `from`; `overrides` replace the callbacks. */
const read = (from: number, overrides: Partial<RelayFileRead>) =>
  readFromRelay({
    shareId: 'A'.repeat(16),
    readerToken: 'r',
    ticket: 't',
    index: 0,
    layout,
    name: 'a.bin',
    from,
    onRecord: async () => {},
    stopped: () => false,
    ...overrides,
  });

const notReady = () =>
  answer(425, JSON.stringify({ error: { code: 'FILE_NOT_READY', message: 'File 0 is still being uploaded.' } }));

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('readFromRelay', () => {
  it('follows a growing upload from the first missing record and hands on each record once, in order', async () => {
    const from = 3;
    // What the server holds over time: nothing yet, then up to the middle of record 6, then all.
    const stored = [0, cipherRange(layout, 6)[0] + 500, cipher.length];
    const ranges: string[] = [];
    let call = 0;
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      const range = new Headers(init.headers).get('Range') ?? '';
      ranges.push(range);
      const start = Number(/^bytes=(\d+)-$/.exec(range)?.[1]);
      const end = stored[Math.min(call++, stored.length - 1)]!;
      if (call === 3) throw new TypeError('network error'); // a dropped connection, asked again
      if (start >= end) return notReady();
      return answer(206, cipher.slice(start, end), `bytes ${start}-${end - 1}/*`);
    });
    const seen: Array<[number, Uint8Array]> = [];
    await read(from, {
      onRecord: async (record, sealed) => {
        seen.push([record, sealed]);
      },
    });
    expect(seen.map(([record]) => record)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    for (const [record, sealed] of seen) {
      const [start, end] = cipherRange(layout, record);
      expect(sealed).toEqual(cipher.slice(start, end));
    }
    // Every request starts on a record: the first missing one, then where the last piece's whole records ended.
    expect(ranges).toEqual([
      `bytes=${cipherRange(layout, 3)[0]}-`,
      `bytes=${cipherRange(layout, 3)[0]}-`,
      `bytes=${cipherRange(layout, 6)[0]}-`,
      `bytes=${cipherRange(layout, 6)[0]}-`,
    ]);
  });

  it('stops asking once the transfer ended another way, and passes other refusals on', async () => {
    vi.stubGlobal('fetch', async () => notReady());
    let stop = false;
    const waiting = read(0, { stopped: () => stop });
    stop = true;
    await expect(waiting).resolves.toBeUndefined();

    vi.stubGlobal('fetch', async () =>
      answer(416, JSON.stringify({ error: { code: 'RANGE_NOT_STORED', message: 'stored from byte 2080 on' } })),
    );
    await expect(read(1, {})).rejects.toMatchObject({ code: 'RANGE_NOT_STORED' });
  });
});
