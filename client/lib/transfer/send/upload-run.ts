/**
 * One upload pass over the files of a share that still need sending: per file an encrypt
 * worker source, a BLAKE3 job whose checkpoints gate encryption, and tus options on the
 * Uppy file (token, ciphertext reader, stored upload URL). Used for a fresh send and for a
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
  const onSuccess = (file: { id: string } | undefined) => {
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
  };
  try {
    for (const item of items) {
      const sent = record.files[item.index];
      if (!sent) throw new FerryError('INTERNAL', `File ${item.index} is not part of the share.`);
      const layout = { size: sent.size, recordSize: sent.recordSize };
      sizes.set(item.uppyId, encryptedSize(layout));
      const gate = new CoverageGate(sent.blake3 ? sent.size : (sent.checkpoint?.offset ?? 0));
      hashes.push(hashInBackground(record.id, item, sent, gate, tools.hasher));
      const key = tools.fileKeys.get(item.index);
      if (!key) throw new FerryError('INTERNAL', `File ${item.index} has no key.`);
      const fileId = tools.encryptor.open({
        file: item.file,
        key,
        nonceBase: nonceOf(sent),
        recordSize: sent.recordSize,
        name: sent.name,
      });
      opened.push(fileId);
      uppy.setFileMeta(item.uppyId, { share: record.id, index: String(item.index) });
      uppy.setFileState(item.uppyId, {
        tus: {
          headers: { Authorization: `Bearer ${record.uploadToken}` },
          uploadUrl: sent.uploadUrl,
          fileReader: cipherFileReader({
            layout,
            encrypt: (start, end) => tools.encryptor.range(fileId, start, end),
            beforeEncrypt: (plainEnd) => gate.wait(plainEnd),
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

function hashInBackground(
  shareId: string,
  item: RunItem,
  sent: SentFile,
  gate: CoverageGate,
  hasher: Hasher,
): Promise<string> {
  if (sent.blake3) return Promise.resolve(sent.blake3);
  // Checkpoints are stored in order, and the gate opens only to a prefix whose stored
  // digest is this run's own: if another tab stored a larger checkpoint from different
  // bytes, encrypting past this run's proven prefix would reuse nonces on other plaintext.
  let stored = Promise.resolve();
  let failure: unknown;
  const digest = hasher
    .hash(item.file, {
      checkpointEvery: CHECKPOINT_BYTES,
      onCheckpoint: (offset, value) => {
        stored = stored
          .then(async () => {
            if (failure !== undefined) return;
            const ours = { offset, digest: value };
            const kept = await raiseCheckpoint(shareId, item.index, ours);
            switch (checkpointDecision(ours, kept)) {
              case 'raise':
                gate.raise(offset);
                return;
              case 'wait':
                return;
              case 'changed':
                throw new FerryError(
                  'CONTENT_CHANGED',
                  `${sent.name} differs from what was already sent for this share. Send it again as a new share.`,
                );
              case 'gone':
                throw new FerryError('SHARE_NOT_FOUND', 'That upload is no longer stored in this browser.');
            }
          })
          .catch((error: unknown) => {
            failure ??= error;
            gate.fail(error);
          });
      },
    })
    .then(async (blake3) => {
      await stored;
      if (failure !== undefined) throw failure;
      await updateFile(shareId, item.index, { blake3 });
      return blake3;
    });
  digest.catch((error: unknown) => gate.fail(error));
  return digest;
}
