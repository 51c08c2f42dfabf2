/**
 * The receive session's state machine, with the network, the sinks and the decryptor
 * replaced. Vitest does not compile runes here, so `$state` is stubbed as the identity:
 * this checks the session's logic, not Svelte's reactivity.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ShareInfo } from '../../../../shared/api.ts';
import { toBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { deriveShareKeys } from '../../../../shared/keys.ts';
import { type Manifest, sealManifest } from '../../../../shared/manifest.ts';
import { getManifest, getShareInfo, requestTicket } from '../../api/share-client.ts';
import type { FileSource } from './decryptor.ts';
import type { ReceiveSession as Session } from './receive-session.svelte.ts';
import { BLOB_LIMIT } from './sinks.ts';

vi.hoisted(() => {
  (globalThis as Record<string, unknown>).$state = <T>(value: T): T => value;
});

vi.mock('../../api/share-client.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../api/share-client.ts')>()),
  getShareInfo: vi.fn(),
  getManifest: vi.fn(),
  requestTicket: vi.fn(),
  // ticketAccepted's HEAD: the ticket is still good.
  request: vi.fn(async () => new Response(null, { status: 200 })),
}));

vi.mock('./sw-download.ts', () => ({ activeServiceWorker: vi.fn(async () => null) }));

/** Sinks as in a browser with neither a save picker nor a service worker; Blobs are drained. */
vi.mock('./sinks.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('./sinks.ts')>();
  return {
    ...real,
    chooseTarget: vi.fn(async (name: string, size: number, what: 'file' | 'archive') => {
      const target = await real.chooseTarget(name, size, what, async () => null);
      return (
        target && {
          kind: 'blob' as const,
          save: (stream: ReadableStream<Uint8Array>) => stream.pipeTo(new WritableStream()),
        }
      );
    }),
  };
});

/** Files whose index is in `failing` fail verification; the others arrive whole. */
const failing = new Set<number>();
const opened: number[] = [];
const metaKeys: unknown[] = [];
vi.mock('./decryptor.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('./decryptor.ts')>();
  class Decryptor {
    async open(source: FileSource) {
      opened.push(source.index);
      metaKeys.push(source.metaKey);
      const { index, file } = source;
      if (failing.has(index)) {
        const error = new FerryError('RECORD_AUTH_FAILED', `${file.name}: record 0 failed verification.`);
        const result = Promise.reject(error);
        result.catch(() => {});
        const stream = new ReadableStream<Uint8Array>({ pull: (c) => c.error(error) });
        return { stream, result };
      }
      const stream = new ReadableStream<Uint8Array>({
        start: (c) => {
          c.enqueue(new Uint8Array(file.size));
          c.close();
        },
      });
      return { stream, result: Promise.resolve() };
    }
    dispose() {}
  }
  return { ...real, Decryptor };
});

const { ReceiveSession } = await import('./receive-session.svelte.ts');

const ID = 'AbCdEfGhIjKlMnOp';
const secret = new Uint8Array(16).fill(7);
const HREF = `https://ferry.test/s/${ID}#${toBase64Url(secret)}`;

function info(state: ShareInfo['state'], maxDownloads: number | null = null): ShareInfo {
  return { id: ID, state, expiresAt: Date.now() + 3_600_000, maxDownloads, downloads: 0, fileCount: 3, password: null };
}

async function serve(sizes: number[]): Promise<void> {
  const manifest: Manifest = {
    v: 1,
    files: sizes.map((size, i) => ({
      name: `f${i}.bin`,
      size,
      type: 'application/octet-stream',
      recordSize: 65536,
      nonce: toBase64Url(new Uint8Array(12).fill(i)),
      blake3: null,
    })),
  };
  const sealed = await sealManifest(manifest, (await deriveShareKeys(secret)).metaKey);
  vi.mocked(getManifest).mockResolvedValue({ manifest: sealed, state: 'ready', files: [] });
}

let session: Session;
let tickets = 0;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  failing.clear();
  opened.length = 0;
  tickets = 0;
  vi.mocked(requestTicket).mockReset();
  vi.mocked(requestTicket).mockImplementation(async () => ({ ticket: `ticket-${++tickets}`, expiresAt: 0 }));
  vi.mocked(getShareInfo).mockReset();
  session = new ReceiveSession();
});
afterEach(() => {
  session.dispose();
  vi.useRealTimers();
});

describe('ReceiveSession', () => {
  it('lists the files while the sender uploads, downloads them, and takes the final manifest when ready', async () => {
    await serve([10, 20, 30]);
    const first = vi.mocked(getManifest).getMockImplementation();
    const uploading = async () => ({
      ...(await first!('', '')),
      state: 'uploading' as const,
      files: [
        { index: 0, size: 42, uploaded: 42, sealed: true },
        { index: 1, size: 52, uploaded: 13, sealed: false },
        { index: 2, size: 62, uploaded: 0, sealed: false },
      ],
    });
    vi.mocked(getShareInfo).mockResolvedValue(info('uploading'));
    vi.mocked(getManifest)
      .mockImplementationOnce(uploading)
      .mockRejectedValueOnce(new FerryError('NETWORK_ERROR', 'Offline.'))
      .mockImplementationOnce(uploading);
    await session.start(HREF);
    expect(session.phase).toBe('ready');
    expect(session.uploading).toBe(true);
    expect(session.files.map((f) => f.uploaded)).toEqual([1, 0.25, 0]);

    // Downloads start at once; the decryptor gets the metadata key for the final hash.
    await session.download(1);
    expect(session.files[1]?.status).toBe('verified');
    expect(metaKeys.at(-1)).toBeInstanceOf(CryptoKey);
    expect(requestTicket).toHaveBeenCalledWith(ID, expect.any(String), [0, 1, 2], 'download');

    // A check that cannot reach the server keeps watching instead of showing an error page.
    await vi.advanceTimersByTimeAsync(3000);
    expect(session.uploading).toBe(true);
    await vi.advanceTimersByTimeAsync(3000);
    expect(session.uploading).toBe(true);
    await vi.advanceTimersByTimeAsync(3000);
    await vi.waitFor(() => expect(session.uploading).toBe(false));
    expect(session.files.map((f) => f.uploaded)).toEqual([null, null, null]);
    expect(getManifest).toHaveBeenCalledTimes(4);
    // No more checks once ready.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(getManifest).toHaveBeenCalledTimes(4);
  });

  it('ends the page when the share is revoked while the sender uploads', async () => {
    await serve([10]);
    const first = vi.mocked(getManifest).getMockImplementation();
    vi.mocked(getShareInfo).mockResolvedValue(info('uploading'));
    vi.mocked(getManifest)
      .mockImplementationOnce(async () => ({ ...(await first!('', '')), state: 'uploading' }))
      .mockRejectedValue(new FerryError('SHARE_REVOKED', 'x'));
    await session.start(HREF);
    expect(session.phase).toBe('ready');
    await vi.advanceTimersByTimeAsync(3000);
    expect(session.phase).toBe('error');
    expect(session.error?.title).toBe('This link was revoked');
  });

  it('fetches every file one by one, then all, under one ticket naming every file', async () => {
    await serve([10, 20, 30]);
    vi.mocked(getShareInfo).mockResolvedValue(info('ready', 1));
    await session.start(HREF);
    for (const i of [0, 1, 2]) await session.download(i);
    expect(session.files.map((f) => f.status)).toEqual(['verified', 'verified', 'verified']);
    await session.downloadAll();
    expect(session.allVerified).toBe(true);
    expect(requestTicket).toHaveBeenCalledOnce();
    expect(requestTicket).toHaveBeenCalledWith(ID, expect.any(String), [0, 1, 2], 'download');
    expect(session.phase).toBe('ready');
  });

  it('marks files verified before a failing one as not saved when the archive fails', async () => {
    await serve([10, 20, 30]);
    vi.mocked(getShareInfo).mockResolvedValue(info('ready'));
    await session.start(HREF);
    failing.add(1);
    await session.downloadAll();
    expect(session.files.map((f) => f.status)).toEqual(['unsaved', 'failed', 'idle']);
    expect(session.files[1]?.failure).toMatch(/^f1\.bin failed verification/);
    expect(session.files[0]?.failure).toBeNull();
    expect(session.notice).toMatch(/^The archive was not saved\./);
    expect(session.allVerified).toBe(false);
    expect(opened).toEqual([0, 1]);
  });

  it('refuses a large download it could only buffer, before asking for a ticket', async () => {
    await serve([BLOB_LIMIT + 1, 10]);
    vi.mocked(getShareInfo).mockResolvedValue(info('ready'));
    await session.start(HREF);
    await session.download(0);
    expect(session.notice).toMatch(/^This browser can't stream a file this large to disk; try Chrome or Edge/);
    expect(session.files[0]?.status).toBe('idle');
    await session.downloadAll();
    expect(session.notice).toMatch(/can't save an archive this large/);
    expect(requestTicket).not.toHaveBeenCalled();
    await session.download(1);
    expect(session.notice).toBeNull();
    expect(session.files[1]?.status).toBe('verified');
  });

  it('reads a refused reader token as a wrong link key', async () => {
    vi.mocked(getShareInfo).mockResolvedValue(info('ready'));
    vi.mocked(getManifest).mockRejectedValue(new FerryError('UNAUTHORIZED', 'This needs the share’s reader token.'));
    await session.start(HREF);
    expect(session.phase).toBe('error');
    expect(session.error?.message).toBe(
      'This link’s key does not open the share. Check that the whole link was copied.',
    );
  });

  it('previews read with the visit’s one ticket, so previewing and then downloading count once', async () => {
    await serve([10, 20]);
    vi.mocked(getShareInfo).mockResolvedValue(info('ready', 1));
    await session.start(HREF);
    expect(session.downloadLimit).toBe(1);
    // By extension only when the type says nothing: these are .bin files.
    expect(session.previewKind(0)).toBeNull();

    const source = await session.previewSource(1);
    expect(source).toMatchObject({ shareId: ID, index: 1, name: 'f1.bin', size: 20, recordSize: 65536 });
    expect(source).toMatchObject({ ticket: 'ticket-1', mime: 'application/octet-stream' });
    expect(source.key).toBeInstanceOf(CryptoKey);
    expect(source.nonceBase).toEqual(new Uint8Array(12).fill(1));

    expect((await session.previewSource(0)).ticket).toBe('ticket-1');
    await session.download(0);
    expect(session.files[0]?.status).toBe('verified');
    expect(requestTicket).toHaveBeenCalledTimes(1);
  });
});
