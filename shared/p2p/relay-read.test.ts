import { afterEach, describe, expect, it, vi } from 'vitest';
import { FerryError } from '../errors.ts';
import { newSecret, relayShareId } from '../keys.ts';
import { cipherRange, encryptedSize, type FileCipher, type RecordLayout } from '../records.ts';
import { type RelayFileRead, readFromRelay, relayRoute, relayStart, type StoredStatus } from './relay-read.ts';

const layout: RecordLayout = { size: 10 * 1024 - 100, recordSize: 1024 };
/** Stand-in ciphertext: byte i is i mod 251, so any misplaced byte shows. */
const cipher = Uint8Array.from({ length: encryptedSize(layout) }, (_, i) => i % 251);

function answer(status: number, body: Uint8Array<ArrayBuffer> | string, contentRange?: string): Response {
  const headers: Record<string, string> = {};
  if (contentRange) headers['Content-Range'] = contentRange;
  return new Response(body, { status, headers });
}

/** File 0 of a relay share, from record `from`; `overrides` replace the callbacks. */
const fileOf = (from: number, overrides: Partial<RelayFileRead> = {}): RelayFileRead => ({
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
const read = (from: number, overrides: Partial<RelayFileRead>) => readFromRelay(fileOf(from, overrides));

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
      const start = Number(/^bytes=(\d+)-$/.exec(range)?.[1]);
      // The upload starts at the first missing record (relayStart asks with HEAD).
      if (init.method === 'HEAD')
        return new Response(null, { status: start < cipherRange(layout, from)[0] ? 416 : 206 });
      ranges.push(range);
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

describe('relayStart', () => {
  /** A server whose upload starts at record `base`; the first `late` probes find nothing stored yet. */
  const serverFrom = (base: number, late = 0) => {
    const asked: number[] = [];
    const probe = async (_read: RelayFileRead, start: number): Promise<StoredStatus> => {
      asked.push(start);
      if (asked.length === 1 && late > 0) throw new FerryError('NETWORK_ERROR', 'offline');
      if (asked.length <= late) return 'not-yet';
      return start < cipherRange(layout, base)[0] ? 'below' : 'stored';
    };
    return { asked, probe };
  };

  it('finds the record the relay upload starts at, before the first one this side lacks', async () => {
    const { probe } = serverFrom(5);
    expect(await relayStart(fileOf(9), probe)).toBe(5);
    expect(await relayStart(fileOf(9), serverFrom(0).probe)).toBe(0);
    expect(await relayStart(fileOf(9), serverFrom(9).probe)).toBe(9);
    expect(await relayStart(fileOf(0), serverFrom(0).probe)).toBe(0);
  });

  it('first waits until the record it lacks is stored, then asks only a few times', async () => {
    vi.useFakeTimers();
    try {
      const { asked, probe } = serverFrom(2, 3);
      const start = relayStart(fileOf(9), probe);
      await vi.runAllTimersAsync();
      expect(await start).toBe(2);
      expect(asked.slice(0, 4)).toEqual(Array(4).fill(cipherRange(layout, 9)[0]));
      expect(asked.length).toBeLessThanOrEqual(4 + Math.ceil(Math.log2(10)));
    } finally {
      vi.useRealTimers();
    }
  });

  it('reads from the first record it lacks when the server answers anything else', async () => {
    const other = async (): Promise<StoredStatus> => 'other';
    expect(await relayStart(fileOf(7), other)).toBe(7);
    const below = async (): Promise<StoredStatus> => 'below';
    expect(await relayStart(fileOf(7), below)).toBe(7);
  });
});

describe('relayRoute', () => {
  /** A transfer of one file laid out as `layout`, under a fresh secret. */
  const transfer = () => ({
    secret: newSecret(),
    ciphers: [{ ...layout, name: 'a.bin' }] as unknown as FileCipher[],
    manifest: null,
  });

  it('reads from the share its secret derives, at the base given, and hands each record in a buffer of its own when asked', async () => {
    const of = transfer();
    const urls: string[] = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      urls.push(`${init.method ?? 'GET'} ${url}`);
      if (url.endsWith('/downloads')) return answer(201, JSON.stringify({ ticket: 'T'.repeat(43), expiresAt: 1 }));
      const start = Number(/^bytes=(\d+)-$/.exec(new Headers(init.headers).get('Range') ?? '')?.[1]);
      return answer(206, cipher.slice(start), `bytes ${start}-${cipher.length - 1}/${cipher.length}`);
    });
    const seen: { record: number; own: boolean }[] = [];
    const route = relayRoute(() => of, { base: 'http://ferry.test', peerName: 'Pat', ownBuffers: true });
    await route.read(
      [{ file: 0, from: 0 }],
      async (_file, record, sealed) => {
        seen.push({ record, own: sealed.byteOffset === 0 && sealed.byteLength === sealed.buffer.byteLength });
      },
      () => false,
    );
    expect(seen.map((s) => s.record)).toEqual([...Array(10).keys()]);
    expect(seen.every((s) => s.own)).toBe(true);
    const id = await relayShareId(of.secret);
    expect(urls[0]).toBe(`POST http://ferry.test/api/shares/${id}/downloads`);
    expect(urls[1]).toBe(`GET http://ferry.test/api/shares/${id}/files/0`);
  });

  it('a share the sender revoked means it stopped the transfer: ABORTED naming it', async () => {
    vi.stubGlobal('fetch', async () =>
      answer(410, JSON.stringify({ error: { code: 'SHARE_REVOKED', message: 'This link was revoked.' } })),
    );
    const route = relayRoute(transfer, { base: 'http://ferry.test', peerName: 'Pat' });
    await expect(
      route.read(
        [{ file: 0, from: 0 }],
        async () => {},
        () => false,
      ),
    ).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'Pat stopped the transfer.',
    });
  });
});
