/**
 * One upload pass over the files of a share that still need sending: per file an encrypt
 * worker source, a BLAKE3 job whose checkpoints gate encryption, and tus options on the
 * Uppy file (token, ciphertext reader, stored upload URL). A fresh file is hashed by the
 * encrypt worker from the bytes it reads (read once); a resumed one by the Hasher. Used for a fresh send and for a
 * resume alike, so both produce byte-identical ciphertext for the same share.
 */
import type { HttpRequest, HttpResponse } from 'tus-js-client';
import { FerryError } from '../../../../shared/errors.ts';
import { encryptedSize } from '../../../../shared/records.ts';
import type { SentFile, ShareRecord } from '../../store/db.ts';
import { raiseCheckpoint, updateFile } from '../../store/shares.ts';
import type { Hasher } from '../hash/hasher.ts';
import { cipherFileReader } from './cipher-file-reader.ts';
import { CoverageGate, checkpointDecision } from './content-check.ts';
import type { Encryptor } from './encryptor.ts';
import type { FerryUppy } from './picker.svelte.ts';
import type { HashNews } from './plain-reader.ts';
import { nonceOf } from './share-plan.ts';

/** Prefix digests every 16 MiB: the most a re-chosen file is hashed beyond what was sent. */
export const CHECKPOINT_BYTES = 16 * 1024 * 1024;

export interface RunItem {
  index: number;
  file: File;
  uppyId: string;
}

export interface PreparedRun {
  /** Ciphertext bytes to upload per Uppy file id. */
  sizes: Map<string, number>;
  /** Resolves with the full BLAKE3 of every file that is being uploaded. */
  hashes: Promise<string[]>;
  /**
   * Settles once every file that finished so far is marked `uploaded` in the store. Each
   * file is marked on its own `upload-success`, so a sibling's failure does not leave it
   * unmarked (and a resume would send it again).
   */
  marked: () => Promise<void>;
  /** Releases the files held by the encrypt worker. */
  close: () => void;
}

/** Sets up every item for upload; the caller then calls `uppy.upload()`. */
export function prepareRun(
  uppy: FerryUppy,
  record: ShareRecord,
  items: readonly RunItem[],
  tools: {
    hasher: Hasher;
    encryptor: Encryptor;
    fileKeys: ReadonlyMap<number, CryptoKey>;
    /** Records that a file is sealed on the server (default: the share's stored record). */
    markUploaded?: (index: number) => Promise<unknown>;
  },
): PreparedRun {
  const sizes = new Map<string, number>();
  const hashes: Promise<string>[] = [];
  const opened: number[] = [];
  const indexOf = new Map(items.map((item) => [item.uppyId, item.index]));
  const markUploaded = tools.markUploaded ?? ((index) => updateFile(record.id, index, { uploaded: true }));
  const marks: Promise<unknown>[] = [];
  const fileHashes = new Map<string, FileHash>();
  const onSuccess = (file: { id: string } | undefined) => {
    if (file) fileHashes.get(file.id)?.uploaded();
    const index = file ? indexOf.get(file.id) : undefined;
    if (index === undefined) return;
    const mark = markUploaded(index);
    mark.catch(() => undefined); // Reported by marked().
    marks.push(mark);
  };
  uppy.on('upload-success', onSuccess);
  const close = () => {
    uppy.off('upload-success', onSuccess);
    for (const id of opened) tools.encryptor.close(id);
    for (const hash of fileHashes.values()) hash.close();
  };
  try {
    for (const item of items) {
      const sent = record.files[item.index];
      if (!sent) throw new FerryError('INTERNAL', `File ${item.index} is not part of the share.`);
      const layout = { size: sent.size, recordSize: sent.recordSize };
      sizes.set(item.uppyId, encryptedSize(layout));
      const gate = new CoverageGate(sent.blake3 ? sent.size : (sent.checkpoint?.offset ?? 0));
      const hash = fileHash(record.id, item, sent, gate, tools.hasher);
      fileHashes.set(item.uppyId, hash);
      hashes.push(hash.digest);
      const key = tools.fileKeys.get(item.index);
      if (!key) throw new FerryError('INTERNAL', `File ${item.index} has no key.`);
      const fileId = tools.encryptor.open({
        file: item.file,
        key,
        nonceBase: nonceOf(sent),
        recordSize: sent.recordSize,
        name: sent.name,
        checkpointEvery: CHECKPOINT_BYTES,
        onHash: hash.onHash,
      });
      opened.push(fileId);
      uppy.setFileMeta(item.uppyId, { share: record.id, index: String(item.index) });
      uppy.setFileState(item.uppyId, {
        tus: {
          headers: { Authorization: `Bearer ${record.uploadToken}` },
          uploadUrl: sent.uploadUrl,
          fileReader: cipherFileReader({
            layout,
            // The worker reads (and maybe hashes) first; it seals once the gate is open.
            encrypt: (start, end) => tools.encryptor.range(fileId, start, end, (plainEnd) => gate.wait(plainEnd)),
            readAhead: true,
          }),
          // Keep the upload URL as soon as tus has one (tus 1.0 §Creation: 201 + Location),
          // so a reload continues this upload instead of starting another.
          onAfterResponse: async (req: HttpRequest, res: HttpResponse) => {
            const created = res.getHeader('Location');
            if (req.getMethod() !== 'POST' || res.getStatus() !== 201 || !created) return;
            const endpoint = new URL(req.getURL(), window.location.href);
            try {
              await updateFile(record.id, item.index, { uploadUrl: new URL(created, endpoint).href });
            } catch (error) {
              // Not fatal: without a stored URL a resume after a reload starts this file over.
              console.warn('Ferry could not store the upload URL', error);
            }
          },
        },
      });
    }
  } catch (error) {
    // Nothing is returned, so nobody else could release what was opened or await the hashes.
    close();
    for (const hash of hashes) hash.catch(() => undefined);
    throw error;
  }
  const marked = async () => {
    await Promise.all(marks);
  };
  return { sizes, hashes: Promise.all(hashes), marked, close };
}

/** Marks files that need no upload (reused or already sealed) as done, so `uppy.upload()` skips them. */
export function markDone(uppy: FerryUppy, uppyId: string): void {
  const file = uppy.getFile(uppyId);
  uppy.setFileState(uppyId, {
    progress: {
      ...file.progress,
      uploadStarted: Date.now(),
      uploadComplete: true,
      percentage: 100,
      bytesUploaded: file.size ?? 0,
      bytesTotal: file.size ?? 0,
    },
  });
}

/**
 * Stores a run's prefix digests in order and opens the gate to each one that is this run's
 * own; `finish` stores the full BLAKE3 once every checkpoint before it is stored.
 */
function checkpointSink(shareId: string, index: number, name: string, gate: CoverageGate) {
  // Checkpoints are stored in order, and the gate opens only to a prefix whose stored
  // digest is this run's own: if another tab stored a larger checkpoint from different
  // bytes, encrypting past this run's proven prefix would reuse nonces on other plaintext.
  let stored = Promise.resolve();
  let failure: unknown;
  const onCheckpoint = (offset: number, value: string) => {
    stored = stored
      .then(async () => {
        if (failure !== undefined) return;
        const ours = { offset, digest: value };
        const kept = await raiseCheckpoint(shareId, index, ours);
        switch (checkpointDecision(ours, kept)) {
          case 'raise':
            gate.raise(offset);
            return;
          case 'wait':
            return;
          case 'changed':
            throw new FerryError(
              'CONTENT_CHANGED',
              `${name} differs from what was already sent for this share. Send it again as a new share.`,
            );
          case 'gone':
            throw new FerryError('SHARE_NOT_FOUND', 'That upload is no longer stored in this browser.');
        }
      })
      .catch((error: unknown) => {
        failure ??= error;
        gate.fail(error);
      });
  };
  const finish = async (blake3: string) => {
    await stored;
    if (failure !== undefined) throw failure;
    await updateFile(shareId, index, { blake3 });
    return blake3;
  };
  return { onCheckpoint, finish };
}

interface FileHash {
  digest: Promise<string>;
  /** Given to the encrypt worker: it hashes the file itself while read in order from 0. */
  onHash?: (news: HashNews) => void;
  /** The upload of this file succeeded: hash with the Hasher unless the worker did it all. */
  uploaded: () => void;
  /** The run is over: a digest still pending fails with ABORTED. */
  close: () => void;
}

/**
 * The full BLAKE3 of one file being uploaded, and the checkpoints that gate its encryption.
 * A fresh file (no checkpoint stored) is hashed by the encrypt worker from the very bytes it
 * encrypts, read once; if that stops (the upload did not start at byte 0, or went past what
 * was hashed, or finished without reading everything) the Hasher reads the file from the
 * start instead. A resumed file is hashed by the Hasher, as it always was.
 */
function fileHash(shareId: string, item: RunItem, sent: SentFile, gate: CoverageGate, hasher: Hasher): FileHash {
  const none = () => undefined;
  if (sent.blake3) return { digest: Promise.resolve(sent.blake3), uploaded: none, close: none };
  const sink = checkpointSink(shareId, item.index, sent.name, gate);
  const withHasher = () => {
    const digest = hasher
      .hash(item.file, { checkpointEvery: CHECKPOINT_BYTES, onCheckpoint: sink.onCheckpoint })
      .then(sink.finish);
    digest.catch((error: unknown) => gate.fail(error));
    return digest;
  };
  if (gate.covered > 0) return { digest: withHasher(), uploaded: none, close: none };
  let state: 'worker' | 'hasher' | 'done' = 'worker';
  let settle!: { resolve: (digest: string) => void; reject: (error: unknown) => void };
  const digest = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  digest.catch((error: unknown) => gate.fail(error));
  const fallBack = () => {
    if (state !== 'worker') return;
    state = 'hasher';
    withHasher().then(settle.resolve, settle.reject);
  };
  const onHash = (news: HashNews) => {
    if (state !== 'worker') return;
    switch (news.type) {
      case 'checkpoint':
        sink.onCheckpoint(news.offset, news.digest);
        return;
      case 'hashed':
        state = 'done';
        // Like the Hasher's last checkpoint: the whole file, which the last slice needs.
        sink.onCheckpoint(sent.size, news.digest);
        sink.finish(news.digest).then(settle.resolve, settle.reject);
        return;
      case 'unhashed':
        fallBack();
        return;
    }
  };
  const close = () => {
    if (state !== 'worker') return;
    state = 'done';
    settle.reject(new FerryError('ABORTED', 'The upload was stopped.'));
  };
  return { digest, onHash, uploaded: fallBack, close };
}
