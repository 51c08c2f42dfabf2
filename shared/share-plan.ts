/**
 * From files and settings to a share the server can create: fresh keys, one nonce base per
 * file, the exact ciphertext sizes, the first manifest (hashes still null for files not
 * hashed yet) and, with a password, the wrapped secret. A file is only its description
 * here (`FileSource`), wherever its bytes live: a browser File, a path on disk, stdin.
 * Nothing here talks to the network; crypto never imports transport.
 */
import type { CreateShareRequest } from './api.ts';
import { randomBytes, toBase64Url } from './encoding.ts';
import { deriveShareKeys, newSecret, type ShareKeys, tokenHash } from './keys.ts';
import { DEFAULT_RECORD_SIZE, NONCE_BYTES } from './limits.ts';
import { type Manifest, sealManifest } from './manifest.ts';
import { wrapSecret } from './password.ts';
import { encryptedSize } from './records.ts';

/** What a share needs to know of a file before reading it. */
export interface FileSource {
  /** Unique relative path in the share. */
  name: string;
  size: number;
  /** MIME type, '' when unknown. */
  type: string;
  /** Milliseconds since the epoch, 0 when unknown. */
  lastModified: number;
}

/** A file of a share as the manifest describes it. */
export interface PlanFile extends FileSource {
  /** base64url 12-byte nonce base. */
  nonce: string;
  recordSize: number;
  /** base64url content key when the records were sealed under another share's key (reuse). */
  key?: string | undefined;
  blake3: string | null;
}

/** A sealed blob with the same content, sent again under its own key and nonce (dedup). */
export interface Reuse {
  blobId: string;
  blobToken: string;
  nonce: string;
  recordSize: number;
  key?: string | undefined;
  blake3: string;
}

export interface ShareSettings {
  expiresInSeconds: number;
  maxDownloads: number | null;
  /** Empty string: no password. */
  password: string;
}

export interface SharePlan<F extends PlanFile = PlanFile> {
  secret: Uint8Array<ArrayBuffer>;
  keys: ShareKeys;
  /** What goes after # in the link: the secret, or the link key of a password share. */
  linkKey: Uint8Array<ArrayBuffer>;
  files: F[];
  request: CreateShareRequest;
}

/** A file to be sealed under a fresh nonce base, or described by the blob it reuses. */
export function planFileOf(source: FileSource, reuse?: Reuse): PlanFile {
  return {
    name: source.name,
    size: source.size,
    type: source.type,
    lastModified: source.lastModified,
    nonce: reuse?.nonce ?? toBase64Url(randomBytes(NONCE_BYTES)),
    recordSize: reuse?.recordSize ?? DEFAULT_RECORD_SIZE,
    key: reuse?.key,
    blake3: reuse?.blake3 ?? null,
  };
}

/** The manifest describing `files` as far as they are known now. */
export function manifestOf(files: readonly PlanFile[]): Manifest {
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

/**
 * Plans a share of `files` under `secret` (a fresh random one unless given: request uploads
 * derive theirs); `reuses[i]`, when set, is the sealed blob file i reuses.
 */
export async function planShare<F extends PlanFile>(
  files: F[],
  reuses: readonly (Pick<Reuse, 'blobId' | 'blobToken'> | undefined)[],
  settings: ShareSettings,
  secret = newSecret(),
): Promise<SharePlan<F>> {
  const keys = await deriveShareKeys(secret);
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
    files: files.map((f, i) => {
      const reuse = reuses[i];
      return reuse
        ? { reuse: { blobId: reuse.blobId, blobToken: reuse.blobToken } }
        : { size: encryptedSize({ size: f.size, recordSize: f.recordSize }) };
    }),
  };
  return { secret, keys, linkKey, files, request };
}
