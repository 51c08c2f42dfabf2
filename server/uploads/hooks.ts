/**
 * The tus hooks that tie uploads to shares. An upload belongs to one slot of one share:
 * creation claims the slot (Upload-Length must equal the slot's declared ciphertext size),
 * every later request must carry the share's upload token, and finishing seals the blob.
 */
import { randomBytes } from 'node:crypto';
import type { ServerOptions, Upload } from '@tus/server';
import { uploadMetadataSchema } from '../../shared/api.ts';
import { FerryError } from '../../shared/errors.ts';
import { MAX_RECORD_SIZE, MIN_RECORD_SIZE, TAG_SIZE } from '../../shared/limits.ts';
import { plaintextSize } from '../../shared/records.ts';
import { requireBearer } from '../http/auth.ts';
import { loadLiveShare } from '../shares/access.ts';
import type { ShareStore } from '../shares/store.ts';
import { assertRoom, reserveFor } from '../storage-full.ts';
import type { BlobStore } from './blob-store.ts';

type Request = Parameters<NonNullable<ServerOptions['onIncomingRequest']>>[0];

export interface HookDeps {
  shares: ShareStore;
  blobs: BlobStore;
  /** FERRY_MIN_FREE_BYTES (undefined: the default reserve, see storage-full.ts). */
  minFreeBytes: number | undefined;
  now: () => number;
}

/** Upload ids: 18 random bytes, base64url (24 characters, safe as a file name). */
export function newUploadId(): string {
  return randomBytes(18).toString('base64url');
}

export function createHooks(deps: HookDeps) {
  const { shares, blobs, now } = deps;

  /** Refuses (507) `bytes` more when they would leave less than the reserve free. */
  async function assertRoomFor(bytes: number, committed = 0): Promise<void> {
    const space = await blobs.space();
    if (space) assertRoom(space, reserveFor(space.total, deps.minFreeBytes), bytes, committed);
  }

  /**
   * Refuses (507) a new upload of `bytes` when it and what admitted, unfinished uploads still
   * have to write would leave less than the reserve free. Their full sizes bound what they
   * still need (one query); only when that bound does not fit are their stored bytes read.
   */
  async function assertRoomForUpload(bytes: number): Promise<void> {
    const unfinished: Array<{ id: string; size: number }> = [];
    for (const id of await shares.unsealedBlobsBefore(Number.MAX_SAFE_INTEGER)) {
      const blob = await shares.getBlob(id);
      if (blob) unfinished.push(blob);
    }
    const bound = unfinished.reduce((sum, blob) => sum + blob.size, 0);
    try {
      await assertRoomFor(bytes, bound);
    } catch (error) {
      if (bound === 0) throw error;
      let committed = 0;
      for (const blob of unfinished) committed += Math.max(0, blob.size - ((await blobs.size(blob.id)) ?? 0));
      await assertRoomFor(bytes, committed);
    }
  }

  /** The blob behind an upload URL, with its share checked live and the upload token verified. */
  async function authorizedBlob(req: Request, uploadId: string) {
    const blob = await shares.getBlob(uploadId);
    if (!blob) throw new FerryError('NOT_FOUND', 'There is no upload at this address.');
    const share = await loadLiveShare(shares, blob.shareId, now());
    await requireBearer(req.headers.get('authorization'), share.uploadHash, 'upload');
    return blob;
  }

  /**
   * Seals a blob whose bytes are all stored. Normally from onUploadFinish; also on a later
   * HEAD or DELETE, because a process killed after the last write but before the hook ran
   * leaves a complete upload that tus clients consider finished. The store's own record is
   * sealed first: if we die in between, the next HEAD completes the job.
   */
  async function seal(blobId: string): Promise<void> {
    await blobs.seal(blobId);
    await shares.sealBlob(blobId, randomBytes(32).toString('base64url'));
  }

  return {
    /** HEAD, PATCH and DELETE (POST is checked in onUploadCreate, where the metadata is parsed). */
    async onIncomingRequest(req: Request, uploadId: string): Promise<void> {
      if (req.method === 'POST') return;
      const blob = await authorizedBlob(req, uploadId);
      if (req.method === 'PATCH') {
        if (blob.sealed) throw new FerryError('UPLOAD_SEALED', 'This upload is complete and can no longer change.');
        // The storage is not read here unless the length is unknown: tus reads the offset
        // under the upload's lock next (on S3 each read is two requests, which cost a third
        // of an 8 MiB PATCH's time before its body was read), and a PATCH that completes an
        // upload (an empty one at its end too) is sealed by onUploadFinish.
        const length = Number(req.headers.get('content-length') ?? Number.NaN);
        if (Number.isSafeInteger(length)) await assertRoomFor(length);
        else await assertRoomFor(blob.size - ((await blobs.size(blob.id)) ?? 0));
        return;
      }
      const stored = await blobs.size(blob.id);
      // Complete: sealed on HEAD and DELETE (a PATCH that just wrote the last byte and has
      // not sealed yet), so a DELETE then answers 409 and the slot stays.
      if (!blob.sealed && stored === blob.size) {
        await seal(blob.id);
        blob.sealed = true;
      } else if (blob.sealed && req.method === 'HEAD') {
        // Idempotent; completes a seal interrupted between the store and the records.
        await blobs.seal(blob.id);
      }
      // tus termination: only unfinished uploads; a sealed blob may be shared by other shares.
      // tus removes the bytes under its lock, and only then is the slot freed (tus.ts).
      if (req.method === 'DELETE' && blob.sealed) {
        throw new FerryError('UPLOAD_SEALED', 'A complete upload is removed with its share.');
      }
    },

    async onUploadCreate(req: Request, upload: Upload): Promise<{ metadata?: Upload['metadata'] }> {
      const meta = uploadMetadataSchema.safeParse(upload.metadata ?? {});
      if (!meta.success) {
        throw new FerryError(
          'INVALID_METADATA',
          'Upload-Metadata takes "share" (the share id) and "index" (the file), and optionally "base" with "recordSize" (an upload that starts mid-file), nothing else.',
        );
      }
      const share = await loadLiveShare(shares, meta.data.share, now());
      await requireBearer(req.headers.get('authorization'), share.uploadHash, 'upload');
      if (share.state !== 'uploading') throw new FerryError('CONFLICT', 'This share is complete; it takes no uploads.');
      if (upload.size === undefined) {
        throw new FerryError('LENGTH_MISMATCH', 'Upload-Length is required: the ciphertext size is known in advance.');
      }
      const index = Number(meta.data.index);
      const base = meta.data.base === undefined ? 0 : Number(meta.data.base);
      const slotSize = share.slots[index]?.size;
      if (meta.data.recordSize !== undefined && slotSize !== undefined) {
        checkBase(base, Number(meta.data.recordSize), slotSize);
      }
      // Before a byte is stored, and before the slot is claimed: room for all of it.
      await assertRoomForUpload(upload.size);
      const claim = await shares.claimSlot(share.id, index, upload.id, upload.size, now(), base);
      if (claim === 'no-slot') throw new FerryError('FILE_NOT_FOUND', `The share has no file ${index}.`);
      if (claim === 'in-progress') {
        // E.g. the answer to an earlier POST was lost: the owner view's blobId names the upload.
        throw new FerryError(
          'CONFLICT',
          `File ${index} already has an upload in progress; resume it (its id is the file's blobId in the owner view).`,
        );
      }
      if (claim === 'sealed') throw new FerryError('CONFLICT', `File ${index} is already uploaded.`);
      if (claim === 'length-mismatch') {
        throw new FerryError('LENGTH_MISMATCH', `Upload-Length differs from the size declared for file ${index}.`);
      }
      // Store only what was validated (files/<id>.json, echoed by HEAD).
      const { share: shareId, index: slot, base: from, recordSize } = meta.data;
      const stored: Record<string, string> = { share: shareId, index: slot };
      if (from !== undefined && recordSize !== undefined) Object.assign(stored, { base: from, recordSize });
      return { metadata: stored };
    },

    /** Seals the blob: from now on it is immutable and may be reused by the owner's token. */
    async onUploadFinish(_req: Request, upload: Upload): Promise<Record<string, never>> {
      const blob = await shares.getBlob(upload.id);
      if (!blob) throw new FerryError('NOT_FOUND', 'This upload was removed.');
      await loadLiveShare(shares, blob.shareId, now());
      await seal(blob.id);
      return {};
    },
  };
}

/**
 * An upload that starts at ciphertext byte `base` of a file of `cipherSize` bytes: `base`
 * must fall on a record boundary of that file's layout (`recordSize` plaintext bytes per
 * record, the declared size a valid encrypted length for it) and leave at least one record.
 */
function checkBase(base: number, recordSize: number, cipherSize: number): void {
  const refuse = (why: string) => {
    throw new FerryError('INVALID_METADATA', `Upload-Metadata "base": ${why}.`);
  };
  if (recordSize < MIN_RECORD_SIZE || recordSize > MAX_RECORD_SIZE) refuse('the record size is out of range');
  if (plaintextSize(cipherSize, recordSize) < 0) refuse('the file’s size does not fit this record size');
  if (base % (recordSize + TAG_SIZE) !== 0) refuse('it is not at a record boundary');
  if (base <= 0 || base >= cipherSize) refuse('it must lie inside the file, past its first byte');
}
