/**
 * From picked files and settings to a share the server can create: fresh keys, one nonce
 * base per file, the exact ciphertext sizes, the first manifest (hashes still null for
 * files being uploaded) and, with a password, the wrapped secret. Nothing here talks to
 * the network; crypto never imports transport.
 */
import type { CreateShareRequest } from '../../../../shared/api.ts';
import { fromBase64Url, randomBytes, toBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { deriveShareKeys, newSecret, type ShareKeys, tokenHash } from '../../../../shared/keys.ts';
import { DEFAULT_RECORD_SIZE, NONCE_BYTES } from '../../../../shared/limits.ts';
import { type Manifest, sealManifest } from '../../../../shared/manifest.ts';
import { wrapSecret } from '../../../../shared/password.ts';
import { encryptedSize } from '../../../../shared/records.ts';
import type { DedupEntry, SentFile } from '../../store/db.ts';
import type { ShareSettings } from './settings.ts';

export interface PlannedFile {
  file: File;
  /** Unique relative path in the share (names.ts). */
  name: string;
  /** A sealed blob with the same content, when one was found. */
  reuse?: DedupEntry | undefined;
  handle?: FileSystemFileHandle | undefined;
}

export interface SharePlan {
  secret: Uint8Array<ArrayBuffer>;
  keys: ShareKeys;
  /** What goes after # in the link: the secret, or the link key of a password share. */
  linkKey: Uint8Array<ArrayBuffer>;
  files: SentFile[];
  request: CreateShareRequest;
}

/** The manifest describing `files` as far as they are known now. */
export function manifestOf(files: readonly SentFile[]): Manifest {
  return {
    v: 1,
    files: files.map((f) => ({
      name: f.name,
      size: f.size,
      type: f.type.slice(0, 255),
      modified: f.lastModified > 0 ? Math.floor(f.lastModified) : undefined,
      recordSize: f.recordSize,
      nonce: f.nonce,
      blake3: f.blake3,
      ...(f.key ? { key: f.key } : {}),
    })),
  };
}

export function sentFileOf(planned: PlannedFile): SentFile {
  const { file, reuse } = planned;
  return {
    name: planned.name,
    size: file.size,
    type: file.type,
    lastModified: file.lastModified,
    nonce: reuse?.nonce ?? toBase64Url(randomBytes(NONCE_BYTES)),
    recordSize: reuse?.recordSize ?? DEFAULT_RECORD_SIZE,
    key: reuse?.key,
    blake3: reuse?.blake3 ?? null,
    checkpoint: null,
    uploadUrl: null,
    reused: reuse !== undefined,
    uploaded: reuse !== undefined,
    handle: planned.handle,
  };
}

/** Plans a share under `secret` (a fresh random one unless given: request uploads derive theirs). */
export async function planShare(
  planned: readonly PlannedFile[],
  settings: ShareSettings,
  secret = newSecret(),
): Promise<SharePlan> {
  const keys = await deriveShareKeys(secret);
  const files = planned.map(sentFileOf);
  let linkKey = secret;
  let password: CreateShareRequest['password'] = null;
  if (settings.password !== '') {
    const wrapped = await wrapSecret(secret, settings.password);
    linkKey = wrapped.linkKey;
    password = wrapped.wrap;
  }
  const request: CreateShareRequest = {
    readerHash: await tokenHash(keys.readerToken),
    expiresInSeconds: settings.expiresInSeconds,
    maxDownloads: settings.maxDownloads,
    password,
    manifest: await sealManifest(manifestOf(files), keys.metaKey),
    files: planned.map((p, i) => {
      const f = files[i]!;
      return p.reuse
        ? { reuse: { blobId: p.reuse.blobId, blobToken: p.reuse.blobToken } }
        : { size: encryptedSize({ size: f.size, recordSize: f.recordSize }) };
    }),
  };
  return { secret, keys, linkKey, files, request };
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
