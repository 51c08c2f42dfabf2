/**
 * The OPFS writer worker: the engine's VerifyingSink (shared/p2p/verifying-sink.ts: each
 * record opened with its tag, index and final flag, written at its offset, the file hashed
 * as it lands and its BLAKE3 checked before it is kept) over the OPFS store (opfs-store.ts),
 * which needs a dedicated worker for its sync access handles. This file only adapts the
 * sink to messages (writer-messages.ts); the page's side is opfs-files.ts OpfsWriter.
 *
 * One worker serves one transfer. Verified counts are posted at most every
 * VERIFIED_POST_MS per file (a frame of three records arrives some hundred times a second,
 * and each count becomes a progress update on the page), and always before `done`,
 * `failed` and `synced`, so the page never hears of a file's end, or answers a resume,
 * ahead of its last count.
 */
import { FerryError } from '../../../shared/errors.ts';
import { VerifyingSink } from '../../../shared/p2p/verifying-sink.ts';
import { opfsDirectory, P2P_OPFS_DIR } from './opfs-dir.ts';
import { OpfsFileStore } from './opfs-store.ts';
import { parseWriterRequest, type WriterEvent } from './writer-messages.ts';

/** How long a verified count may wait to be posted with the next ones. */
const VERIFIED_POST_MS = 50;

const scope = self as unknown as DedicatedWorkerGlobalScope;
/** Each open file's OPFS name, as the page named it. */
const paths = new Map<number, string>();
/** Verified counts not yet posted, per file. */
const unposted = new Map<number, number>();
let postTimer: ReturnType<typeof setTimeout> | undefined;

const post = (event: WriterEvent): void => scope.postMessage(event);

function postVerified(): void {
  clearTimeout(postTimer);
  postTimer = undefined;
  for (const [file, verified] of unposted) post({ type: 'verified', file, verified });
  unposted.clear();
}

const store = new OpfsFileStore(
  () => opfsDirectory(P2P_OPFS_DIR),
  (file) => {
    const path = paths.get(file);
    if (path === undefined) throw new FerryError('INVALID_MESSAGE', `File ${file} has no place in storage.`);
    return path;
  },
);

const sink = new VerifyingSink(store, {
  verified(file, records) {
    unposted.set(file, records);
    postTimer ??= setTimeout(postVerified, VERIFIED_POST_MS);
  },
  failed(error) {
    postVerified();
    post({ type: 'failed', code: error.code, message: error.message });
  },
});

scope.onmessage = (message: MessageEvent<unknown>) => {
  const request = parseWriterRequest(message.data);
  if (!request) return;
  switch (request.type) {
    case 'open':
      paths.set(request.file, request.path);
      sink.open(request.file, request.cipher, request.blake3).then(
        () => {
          postVerified();
          post({ type: 'done', file: request.file });
        },
        // The sink's failure is posted once, by `failed`.
        () => {},
      );
      return;
    case 'records': {
      let at = request.at;
      const records = request.lengths.map((length) => {
        const record = new Uint8Array(request.bytes, at, length);
        at += length;
        return record;
      });
      sink.write(request.file, request.first, records);
      return;
    }
    case 'sync':
    case 'close': {
      const handled = request.type === 'sync' ? sink.sync() : sink.close(request.discard);
      void handled
        .catch(() => {})
        .then(() => {
          postVerified();
          post({ type: 'synced', id: request.id });
        });
      return;
    }
  }
};
