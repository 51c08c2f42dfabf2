/**
 * Sending bytes the server already holds reuses them, as the app does (its `dedup` store,
 * client/lib/store/dedup.ts): every file `ferry send` uploads is remembered with its sealed
 * blob (id and token from the owner view), the key and nonce base it was sealed with, and
 * its BLAKE3; a later send of a file with the same path, size and modification time (the
 * fingerprint only nominates) and the same BLAKE3 (which decides) names that blob in the
 * share it creates instead of uploading it again. The new share's manifest carries the
 * blob's own file key, so its receivers open the records as they were sealed.
 *
 * Kept in the state directory as `blobs/<blake3>.json` (mode 0600: the file key opens the
 * blob), until the share that keeps the blob alive expires.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ShareOwnerView } from '../shared/api.ts';
import { fromBase64Url, toBase64Url } from '../shared/encoding.ts';
import { deriveFileKeyBytes } from '../shared/keys.ts';
import type { Reuse } from '../shared/share-plan.ts';
import { z } from '../shared/zod.ts';
import type { LocalFile } from './sources.ts';
import { readJson, type SendState, stateDir, writePrivate } from './state.ts';

const blobEntrySchema = z.object({
  server: z.string(),
  blake3: z.string().regex(/^[0-9a-f]{64}$/),
  /** Absolute path, size and modification time of the file that was sent. */
  fingerprint: z.string(),
  blobId: z.string(),
  blobToken: z.string(),
  /** base64url file key the records are sealed with. */
  key: z.string(),
  nonce: z.string(),
  recordSize: z.number(),
  size: z.number(),
  expiresAt: z.number(),
  /** The share that keeps the blob alive. */
  shareId: z.string(),
});
type BlobEntry = z.output<typeof blobEntrySchema>;

const blobsDir = () => path.join(stateDir(), 'blobs');
const entryFile = (blake3: string) => path.join(blobsDir(), `${blake3}.json`);

/** The cheap first match: the file's absolute path, size and modification time. */
export function fingerprintOf(file: LocalFile): string {
  return `${file.size}:${file.lastModified}:${path.resolve(file.path)}`;
}

async function liveEntries(now: number): Promise<BlobEntry[]> {
  const names = await readdir(blobsDir()).catch(() => [] as string[]);
  const entries: BlobEntry[] = [];
  for (const name of names.filter((n) => /^[0-9a-f]{64}\.json$/.test(n))) {
    const entry = await readJson(blobEntrySchema, path.join(blobsDir(), name));
    // Expired (its share is gone, and the blob with it unless another share holds it) or unreadable.
    if (!entry || entry.expiresAt <= now) await rm(path.join(blobsDir(), name), { force: true });
    else entries.push(entry);
  }
  return entries;
}

/**
 * What the send knows of a file before uploading it: the blob to reuse when one on `server`
 * has exactly its bytes, and its BLAKE3 when it had to be computed to decide (null when no
 * remembered file even nominated it, so nothing was read).
 */
export async function findReuse(
  server: string,
  file: LocalFile,
  hash: (file: LocalFile) => Promise<string>,
  now = Date.now(),
): Promise<{ reuse: Reuse | undefined; blake3: string | null }> {
  if (file.spooled) return { reuse: undefined, blake3: null };
  const fingerprint = fingerprintOf(file);
  const candidates = (await liveEntries(now)).filter((e) => e.server === server && e.fingerprint === fingerprint);
  if (candidates.length === 0) return { reuse: undefined, blake3: null };
  const blake3 = await hash(file);
  const match = candidates.find((e) => e.blake3 === blake3 && e.size === file.size);
  if (!match) return { reuse: undefined, blake3 };
  const { blobId, blobToken, nonce, recordSize, key } = match;
  return { reuse: { blobId, blobToken, nonce, recordSize, key, blake3 }, blake3 };
}

/** Remembers every file of a completed send with its sealed blob, for later sends. */
export async function rememberBlobs(
  state: SendState,
  local: readonly LocalFile[],
  view: ShareOwnerView,
  contentKey: CryptoKey,
): Promise<void> {
  for (const [index, file] of state.files.entries()) {
    const source = local[index];
    const slot = view.files.find((f) => f.index === index);
    if (!source || source.spooled || !file.blake3 || !slot?.blobId || !slot.blobToken) continue;
    // A reused file's manifest entry already carries the blob's file key.
    const key = file.key ?? toBase64Url(await deriveFileKeyBytes(contentKey, fromBase64Url(file.nonce)));
    // The blob lives as long as the longest-lived share that holds it.
    const known = await readJson(blobEntrySchema, entryFile(file.blake3));
    const entry: BlobEntry = {
      server: state.server,
      blake3: file.blake3,
      fingerprint: fingerprintOf(source),
      blobId: slot.blobId,
      blobToken: slot.blobToken,
      key,
      nonce: file.nonce,
      recordSize: file.recordSize,
      size: file.size,
      expiresAt: Math.max(view.expiresAt, known?.blobId === slot.blobId ? known.expiresAt : 0),
      shareId: known?.blobId === slot.blobId && known.expiresAt > view.expiresAt ? known.shareId : state.id,
    };
    await writePrivate(entryFile(file.blake3), entry);
  }
}

/** Forgets blobs the server refused to reuse (gone, or held by a revoked share). */
export async function forgetBlobs(blake3s: readonly string[]): Promise<void> {
  await Promise.all(blake3s.map((b) => rm(entryFile(b), { force: true })));
}

/** Forgets the blobs a share kept alive (it was revoked). */
export async function forgetShareBlobs(shareId: string): Promise<void> {
  await forgetBlobs((await liveEntries(Date.now())).filter((e) => e.shareId === shareId).map((e) => e.blake3));
}
