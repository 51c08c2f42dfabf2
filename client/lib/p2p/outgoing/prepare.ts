/**
 * What every route sends, made once per transfer: the share planned exactly like a link
 * send (send/share-plan.ts: fresh secret, keys, one nonce base per file, the same
 * manifest and record format), every file hashed (BLAKE3, in the hash worker), the
 * manifest sealed, and each file's key.
 */
import { deriveFileKey } from '../../../../shared/keys.ts';
import { DEFAULT_EXPIRY_SECONDS } from '../../../../shared/limits.ts';
import { sealManifest } from '../../../../shared/manifest.ts';
import type { FileCipher } from '../../../../shared/records.ts';
import { Hasher } from '../../transfer/hash/hasher.ts';
import { manifestOf, nonceOf, planShare } from '../../transfer/send/share-plan.ts';

export interface PreparedSend {
  /** The transfer's link secret: its keys sealed the manifest and derive each file's key. */
  secret: Uint8Array<ArrayBuffer>;
  /** The sealed manifest, with every file's BLAKE3. */
  manifest: string;
  /** Each file's key, nonce base and layout, in manifest order. */
  ciphers: FileCipher[];
}

/**
 * Plans, hashes and seals `files` under `names`; `check` runs between the steps and throws
 * when the transfer was stopped meanwhile.
 */
export async function prepareSend(files: readonly File[], names: readonly string[], check: () => void) {
  const {
    secret,
    keys,
    files: planned,
  } = await planShare(
    files.map((file, i) => ({ file, name: names[i]! })),
    { expiresInSeconds: DEFAULT_EXPIRY_SECONDS, maxDownloads: null, password: '' },
  );
  const hasher = new Hasher();
  try {
    for (const [i, file] of planned.entries()) file.blake3 = await hasher.hash(files[i]!);
  } finally {
    hasher.abort();
  }
  const manifest = await sealManifest(manifestOf(planned), keys.metaKey);
  check();
  const ciphers: FileCipher[] = [];
  for (const file of planned) {
    ciphers.push({
      name: file.name,
      size: file.size,
      recordSize: file.recordSize,
      nonceBase: nonceOf(file),
      key: await deriveFileKey(keys.contentKey, nonceOf(file)),
    });
  }
  check();
  return { secret, manifest, ciphers } satisfies PreparedSend;
}
