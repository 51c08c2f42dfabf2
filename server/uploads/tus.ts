/**
 * tus 1.0 (core + creation + creation-with-upload + termination + expiration) at /files/,
 * configured rather than forked: @tus/server does the protocol, hooks.ts ties it to shares.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type CancellationContext, type DataStore, type Locker, Server, type Upload } from '@tus/server';
import type { ErrorCode } from '../../shared/errors.ts';
import { BASE_HEADERS, type ErrorReport } from '../http/respond.ts';
import type { ShareStore } from '../shares/store.ts';
import { type BlobStore, requestBodyBytes } from './blob-store.ts';
import { createHooks, newUploadId } from './hooks.ts';
import { readBodiesUncopied } from './request-body.ts';
import { tusErrorResponse } from './tus-errors.ts';

export const TUS_PATH = '/files';

/**
 * Answers that @tus/server writes itself before any handler runs (412, "Invalid <header>")
 * are plain text; this rewrites them into Ferry's JSON error shape and labels JSON bodies.
 */
class FerryTusServer extends Server {
  /** Counts the refusals rewritten here (the others pass through onResponseError). */
  refused: (code: ErrorCode) => void = () => undefined;

  override write(context: CancellationContext, headers: Headers, status: number, body = '') {
    if (status >= 400 && !body.startsWith('{')) {
      const invalid = /^Invalid (.*)$/.exec(body.trim());
      // tus 1.0 §Tus-Resumable: an unsupported version is 412 with Tus-Version.
      if (status === 412 || invalid?.[1]?.split(' ').includes('tus-resumable')) {
        status = 412;
        headers.set('Tus-Version', '1.0.0');
      }
      const code = status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
      this.refused(code);
      const message = invalid ? `Invalid tus header: ${invalid[1]}.` : body.trim();
      body = JSON.stringify({ error: { code, message } });
    }
    if (body.startsWith('{')) headers.set('Content-Type', 'application/json; charset=utf-8');
    for (const [name, value] of Object.entries(BASE_HEADERS)) headers.set(name, value);
    return super.write(context, headers, status, body);
  }
}

/**
 * The DataStore tus writes through, tied to the slots: a creation the storage refused frees
 * the slot onUploadCreate claimed (else a retry would hear "resume it" about an upload that
 * does not exist), and a terminated upload frees its slot only once its bytes are gone
 * (tus calls remove under the upload's lock, after its checks).
 */
function slotFreeingStore(store: DataStore, deps: TusDeps): DataStore {
  const release = async (id: string) => {
    await deps.blobs.remove(id);
    await deps.shares.releaseBlob(id);
  };
  const create = async (upload: Upload): Promise<Upload> => {
    try {
      return await store.create(upload);
    } catch (error) {
      await release(upload.id).catch((why: unknown) =>
        deps.report.logger.error({ err: why }, 'tus: freeing the slot of a failed creation'),
      );
      throw error;
    }
  };
  const remove = async (id: string): Promise<void> => {
    await store.remove(id);
    await deps.shares.releaseBlob(id);
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'create') return create;
      if (property === 'remove') return remove;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export interface TusDeps {
  shares: ShareStore;
  blobs: BlobStore;
  maxUploadBytes: number;
  minFreeBytes: number | undefined;
  now: () => number;
  /** Where refusals and server faults are reported. */
  report: ErrorReport;
  /** Upload locks shared by every node (Redis); tus's MemoryLocker (this process only) when absent. */
  locker?: Locker;
}

export function createTus(deps: TusDeps) {
  const hooks = createHooks(deps);
  const server = new FerryTusServer({
    path: TUS_PATH,
    datastore: slotFreeingStore(deps.blobs.datastore, deps),
    // Refused at creation from Upload-Length, before a byte is stored (413).
    maxSize: deps.maxUploadBytes,
    namingFunction: () => newUploadId(),
    // A relative Location works the same directly and behind the Vite dev proxy, and
    // never trusts a client-supplied Host or X-Forwarded-* header.
    relativeLocation: true,
    respectForwardedHeaders: false,
    // Same origin only: no Access-Control-Allow-Origin.
    allowedOrigins: [],
    disableTerminationForFinishedUploads: true,
    ...(deps.locker ? { locker: deps.locker } : {}),
    onIncomingRequest: hooks.onIncomingRequest,
    onUploadCreate: hooks.onUploadCreate,
    onUploadFinish: hooks.onUploadFinish,
    onResponseError: (_req, error) => tusErrorResponse(error, deps.report),
  });
  server.refused = (code) => deps.report.refused(code);
  if (!readBodiesUncopied(server))
    deps.report.logger.warn('tus: request bodies are read through Readable.toWeb (a copy of every chunk).');
  return {
    handle: (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const length = Number(req.headers['content-length']);
      if (!Number.isSafeInteger(length) || length <= 0) return server.handle(req, res);
      return requestBodyBytes.run(length, () => server.handle(req, res));
    },
    /** Removes unfinished uploads past the store's expiry. */
    cleanUpExpiredUploads: (): Promise<number> => server.cleanUpExpiredUploads(),
  };
}
