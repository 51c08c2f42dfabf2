/**
 * Download while uploading: a file received before the sender finished has no BLAKE3 in
 * the manifest the recipient opened (the sender hashes while it uploads and replaces the
 * manifest when the share completes). Once every record has arrived and verified on its
 * own, this re-reads the manifest until it carries the file's hash, and answers it; the
 * verifying stream holds the file's last bytes back until then (shared/file-hash.ts), so a
 * file is never offered as good before its whole-file hash was checked.
 *
 * The manifest is sealed with the metadata key, so the server cannot forge a hash. The
 * new entry must describe the same file (size, record size, nonce), or the records just
 * decrypted are not the ones it hashes.
 */
import { FerryError } from '../../../../shared/errors.ts';
import { type ManifestFile, openManifest } from '../../../../shared/manifest.ts';
import { getManifest } from '../../api/share-client.ts';
import { isRetryable } from './resume.ts';

/** How often the manifest is read again while the sender has not completed the share. */
export const FINAL_HASH_POLL_MS = 1000;
/** How long to wait for the sender to complete the share once every byte is here. */
export const FINAL_HASH_TIMEOUT_MS = 10 * 60 * 1000;

export interface FinalHashJob {
  shareId: string;
  index: number;
  readerToken: string;
  metaKey: CryptoKey;
  /** What the file must still be in the final manifest. */
  file: { name: string; size: number; recordSize: number; nonce: string };
}

export interface FinalHashDeps {
  getManifest: typeof getManifest;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

const defaultDeps: FinalHashDeps = {
  getManifest,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};

/** The file's hex BLAKE3 from the manifest, as soon as the sender has published it. */
export async function waitForFinalHash(job: FinalHashJob, deps: FinalHashDeps = defaultDeps): Promise<string> {
  const deadline = deps.now() + FINAL_HASH_TIMEOUT_MS;
  for (;;) {
    try {
      const answer = await deps.getManifest(job.shareId, job.readerToken);
      const entry = (await openManifest(answer.manifest, job.metaKey)).files[job.index];
      if (!entry || !sameFile(entry, job.file)) {
        throw new FerryError(
          'FILE_HASH_MISMATCH',
          `${job.file.name} failed verification: the sender changed the file.`,
        );
      }
      if (entry.blake3 !== null) return entry.blake3;
    } catch (error) {
      if (!isRetryable(error)) throw error;
    }
    if (deps.now() >= deadline) {
      throw new FerryError(
        'FILE_NOT_READY',
        `${job.file.name}: every byte arrived, but the sender has not finished the share, so it cannot be verified yet.`,
      );
    }
    await deps.sleep(FINAL_HASH_POLL_MS);
  }
}

function sameFile(entry: ManifestFile, file: FinalHashJob['file']): boolean {
  return entry.size === file.size && entry.recordSize === file.recordSize && entry.nonce === file.nonce;
}
