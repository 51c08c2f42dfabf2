/**
 * The recipient's writer: opens each record (decryptRecord: tag, index and final flag are
 * checked) and writes the plaintext at its offset into a file in the origin private file
 * system through a FileSystemSyncAccessHandle, which only dedicated workers may create
 * (File System Standard §"FileSystemSyncAccessHandle"). Records are handled one at a time,
 * in arrival order, and written in batches of up to WRITE_BATCH_BYTES (write-batch.ts: each
 * write costs a round trip to the browser process); a record counts as verified once it is
 * written, so "verified" is always a prefix count of what is on disk. A batch that stops
 * growing is written after IDLE_WRITE_MS, and a `sync` writes what is gathered first.
 * Memory: one batch per open file, plus what the page posted and the sender's
 * unacknowledged window bounds.
 */
import { createBLAKE3, type IHasher } from 'hash-wasm';
import { FerryError } from '../../../shared/errors.ts';
import { hashMismatch } from '../../../shared/file-hash.ts';
import { decryptRecord, type FileCipher, plainRange, recordCount } from '../../../shared/records.ts';
import { P2P_OPFS_DIR } from './opfs-dir.ts';
import { WriteBatch } from './write-batch.ts';
import { parseWriterRequest, type WriterEvent, type WriterRequest } from './writer-messages.ts';

/** A batch that has not grown for this long is written, so the page (and the sender) hear of it. */
const IDLE_WRITE_MS = 50;

interface SyncHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

interface OpenFile {
  cipher: FileCipher;
  handle: SyncHandle;
  /** Records decrypted (the next one expected). */
  next: number;
  /** Records written: [0, written) are verified and on disk. */
  written: number;
  batch: WriteBatch;
  /** BLAKE3 of the plaintext written so far: records arrive in order, so the file is hashed as it lands. */
  hasher: IHasher;
  blake3: string;
}

const scope = self as unknown as DedicatedWorkerGlobalScope;
const files = new Map<number, OpenFile>();
let queue: Promise<void> = Promise.resolve();
/** After a failure nothing more is written: one worker serves one transfer. */
let broken = false;
let idleWrite: ReturnType<typeof setTimeout> | undefined;

function post(event: WriterEvent): void {
  scope.postMessage(event);
}

scope.onmessage = (message: MessageEvent<unknown>) => {
  const request = parseWriterRequest(message.data);
  if (!request) return;
  const file = request.type === 'abort' || request.type === 'sync' ? 0 : request.file;
  enqueue(file, () => handle(request));
};

/** Runs `work` after everything queued; a failure is reported against `file`. */
function enqueue(file: number, work: () => Promise<void> | void): void {
  queue = queue.then(work).catch((error: unknown) => fail(file, error));
}

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
      const batch = new WriteBatch(request.cipher.size, request.cipher.recordSize);
      files.set(request.file, {
        cipher: request.cipher,
        handle,
        next: 0,
        written: 0,
        batch,
        hasher,
        blake3: request.blake3,
      });
      return;
    }
    case 'records': {
      const open = files.get(request.file);
      if (!open)
        throw new FerryError('INVALID_MESSAGE', `A record arrived for file ${request.file}, which is not open.`);
      let at = request.at;
      for (const [i, length] of request.lengths.entries()) {
        await addRecord(request.file, open, request.first + i, new Uint8Array(request.bytes, at, length));
        at += length;
      }
      return;
    }
    case 'abort':
      clearTimeout(idleWrite);
      closeAll();
      return;
    case 'sync':
      if (!broken) writeAll();
      post({ type: 'synced', id: request.id });
      return;
  }
}

/** Opens record `record` of `file`, which must be the next one, and adds it to the file's batch. */
async function addRecord(file: number, open: OpenFile, record: number, sealed: Uint8Array<ArrayBuffer>): Promise<void> {
  if (record !== open.next) {
    throw new FerryError('RECORD_TRUNCATED', `${open.cipher.name}: record ${record} arrived out of order.`);
  }
  const plain = await decryptRecord(open.cipher, record, sealed);
  const [start] = plainRange(open.cipher, record);
  if (!open.batch.fits(plain.length)) write(file, open);
  open.batch.add(start, plain);
  open.next++;
  if (open.batch.full || open.next === recordCount(open.cipher)) write(file, open);
  else {
    clearTimeout(idleWrite);
    idleWrite = setTimeout(() => enqueue(file, writeAll), IDLE_WRITE_MS);
  }
}

/** Writes `open`'s batch, reports the records in it verified, and finishes the file after its last. */
function write(file: number, open: OpenFile): void {
  if (open.written === open.next) return;
  open.hasher.update(open.batch.writeTo(open.handle));
  open.written = open.next;
  post({ type: 'verified', file, verified: open.written });
  if (open.written === recordCount(open.cipher)) {
    open.handle.flush();
    open.handle.close();
    files.delete(file);
    if (open.hasher.digest('hex') !== open.blake3) throw hashMismatch(open.cipher.name);
    post({ type: 'done', file });
  }
}

function writeAll(): void {
  if (broken) return;
  for (const [file, open] of [...files]) write(file, open);
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

function fail(file: number, error: unknown): void {
  const code = error instanceof FerryError ? error.code : 'STORAGE_FAILED';
  const message =
    error instanceof FerryError
      ? error.message
      : `The file could not be written to this device's storage (${String(error)}).`;
  if (broken) return;
  broken = true;
  clearTimeout(idleWrite);
  closeAll();
  post({ type: 'failed', file, code, message });
}
