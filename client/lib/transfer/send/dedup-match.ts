/** Choosing a blob to reuse: the fingerprint only nominates, the BLAKE3 decides. */
import type { DedupEntry } from '../../store/db.ts';

/** The entry whose content is exactly `blake3` and `size` and that is still alive, if any. */
export function matchReuse(
  candidates: readonly DedupEntry[],
  blake3: string,
  size: number,
  now = Date.now(),
): DedupEntry | undefined {
  return candidates.find((c) => c.blake3 === blake3 && c.size === size && c.expiresAt > now);
}
