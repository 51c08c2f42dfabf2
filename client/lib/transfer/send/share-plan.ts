/**
 * The app's side of the share plan (shared/share-plan.ts): a picked browser File, the
 * sealed blob it may reuse, and what the sender stores of each file in IndexedDB.
 */
import { fromBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import {
  planFileOf,
  type SharePlan as SharedPlan,
  planShare as sharedPlanShare,
} from '../../../../shared/share-plan.ts';
import type { DedupEntry, SentFile } from '../../store/db.ts';
import type { ShareSettings } from './settings.ts';

export { manifestOf } from '../../../../shared/share-plan.ts';

export interface PlannedFile {
  file: File;
  /** Unique relative path in the share (names.ts). */
  name: string;
  /** A sealed blob with the same content, when one was found. */
  reuse?: DedupEntry | undefined;
  handle?: FileSystemFileHandle | undefined;
}

export type SharePlan = SharedPlan<SentFile>;

export function sentFileOf(planned: PlannedFile): SentFile {
  const { file, reuse } = planned;
  const source = { name: planned.name, size: file.size, type: file.type, lastModified: file.lastModified };
  return {
    ...planFileOf(source, reuse),
    checkpoint: null,
    uploadUrl: null,
    reused: reuse !== undefined,
    uploaded: reuse !== undefined,
    handle: planned.handle,
  };
}

/** Plans a share under `secret` (a fresh random one unless given: request uploads derive theirs). */
export function planShare(
  planned: readonly PlannedFile[],
  settings: ShareSettings,
  secret?: Uint8Array<ArrayBuffer>,
): Promise<SharePlan> {
  return sharedPlanShare(
    planned.map(sentFileOf),
    planned.map((p) => p.reuse),
    settings,
    secret,
  );
}

/**
 * The files with every hash that can be known without reading them: a file whose BLAKE3
 * was not stored (say the write failed after its last checkpoint) takes it from a
 * checkpoint that covers the whole file, which is its full digest. `missing` lists the
 * indices still without one.
 */
export function withFullHashes(files: readonly SentFile[]): { files: SentFile[]; missing: number[] } {
  const missing: number[] = [];
  const filled = files.map((f, index) => {
    if (f.blake3) return f;
    if (f.checkpoint && f.checkpoint.offset === f.size) return { ...f, blake3: f.checkpoint.digest };
    missing.push(index);
    return f;
  });
  return { files: filled, missing };
}

/** Throws unless every file has its hash: a share is never completed with `blake3: null`. */
export function requireHashes(files: readonly SentFile[]): void {
  const without = files.filter((f) => !f.blake3).map((f) => f.name);
  if (without.length === 0) return;
  throw new FerryError(
    'INTERNAL',
    `The share cannot be finished: the BLAKE3 hash of ${without.join(', ')} is unknown. Discard it and send the files again.`,
  );
}

/**
 * Whether createShare's refusal is about the blobs to reuse: 403 FORBIDDEN answers a
 * reused blob that is gone (server reset, clock skew) or whose token no longer matches,
 * and nothing else in a creation.
 */
export function isStaleReuse(error: unknown, planned: readonly PlannedFile[]): boolean {
  return error instanceof FerryError && error.code === 'FORBIDDEN' && planned.some((p) => p.reuse !== undefined);
}

/** The same files, each to be uploaded: no reuse. */
export function withoutReuse(planned: readonly PlannedFile[]): PlannedFile[] {
  return planned.map((p) => ({ ...p, reuse: undefined }));
}

/** The nonce base of a stored file as bytes. */
export function nonceOf(file: SentFile): Uint8Array<ArrayBuffer> {
  return fromBase64Url(file.nonce);
}
