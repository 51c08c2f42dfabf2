/**
 * The recipient's writer: opens each record (decryptRecord: tag, index and final flag are
 * checked) and writes the plaintext at its offset into a file in the origin private file
 * system through a FileSystemSyncAccessHandle, which only dedicated workers may create
 * (File System Standard §"FileSystemSyncAccessHandle"). Records are handled one at a time,
 * in arrival order, so "verified" is always a prefix count. Memory: one record at a time,
 * plus what the page posted and the sender's unacknowledged window bounds.
 */
import { createBLAKE3, type IHasher } from 'hash-wasm';
import { FerryError } from '../../../shared/errors.ts';
import { decryptRecord, type FileCipher, plainRange, recordCount } from '../../../shared/records.ts';
import { hashMismatch } from '../transfer/receive/verify-stream.ts';
import { P2P_OPFS_DIR } from './opfs-files.ts';
import { parseWriterRequest, type WriterEvent, type WriterRequest } from './writer-messages.ts';

interface SyncHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

interface OpenFile {
  cipher: FileCipher;
  handle: SyncHandle;
  next: number;
  /** BLAKE3 of the plaintext so far: records arrive in order, so the file is hashed as it lands. */
  hasher: IHasher;
  blake3: string;
}

const scope = self as unknown as DedicatedWorkerGlobalScope;
const files = new Map<number, OpenFile>();
let queue: Promise<void> = Promise.resolve();
/** After a failure nothing more is written: one worker serves one transfer. */
let broken = false;

function post(event: WriterEvent): void {
  scope.postMessage(event);
}

scope.onmessage = (message: MessageEvent<unknown>) => {
  const request = parseWriterRequest(message.data);
  if (!request) return;
  queue = queue.then(() => handle(request)).catch((error: unknown) => fail(request, error));
};

async function handle(request: WriterRequest): Promise<void> {
  if (broken && request.type !== 'abort' && request.type !== 'sync') return;
  switch (request.type) {
    case 'open': {
      const root = await navigator.storage.getDirectory();
      const dir = await root.getDirectoryHandle(P2P_OPFS_DIR, { create: true });
      const fileHandle = await dir.getFileHandle(request.path, { create: true });
      const handle = (await (
        fileHandle as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }
      ).createSyncAccessHandle()) as SyncHandle;
      handle.truncate(0);
      const hasher = (await createBLAKE3()).init();
      files.set(request.file, { cipher: request.cipher, handle, next: 0, hasher, blake3: request.blake3 });
      return;
    }
    case 'record': {
      const open = files.get(request.file);
      if (!open)
        throw new FerryError('INVALID_MESSAGE', `A record arrived for file ${request.file}, which is not open.`);
      if (request.record !== open.next) {
        throw new FerryError('RECORD_TRUNCATED', `${open.cipher.name}: record ${request.record} arrived out of order.`);
      }
      const plain = await decryptRecord(open.cipher, request.record, new Uint8Array(request.bytes));
      const [start] = plainRange(open.cipher, request.record);
      let written = 0;
      while (written < plain.length) written += open.handle.write(plain.subarray(written), { at: start + written });
      open.hasher.update(plain);
      open.next++;
      post({ type: 'verified', file: request.file, verified: open.next });
      if (open.next === recordCount(open.cipher)) {
        open.handle.flush();
        open.handle.close();
        files.delete(request.file);
        if (open.hasher.digest('hex') !== open.blake3) throw hashMismatch(open.cipher.name);
        post({ type: 'done', file: request.file });
      }
      return;
    }
    case 'abort':
      closeAll();
      return;
    case 'sync':
      post({ type: 'synced', id: request.id });
      return;
  }
}

function closeAll(): void {
  for (const open of files.values()) {
    try {
      open.handle.close();
    } catch {
      // Already closed.
    }
  }
  files.clear();
}

function fail(request: WriterRequest, error: unknown): void {
  const file = request.type === 'abort' || request.type === 'sync' ? 0 : request.file;
  const code = error instanceof FerryError ? error.code : 'STORAGE_FAILED';
  const message =
    error instanceof FerryError
      ? error.message
      : `The file could not be written to this device's storage (${String(error)}).`;
  if (broken) return;
  broken = true;
  closeAll();
  post({ type: 'failed', file, code, message });
}
