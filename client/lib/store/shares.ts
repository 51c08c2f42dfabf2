/** The `shares` store: pending uploads and the history of sent shares. */
import { type Checkpoint, db, type SentFile, type ShareRecord } from './db.ts';

export async function putShare(record: ShareRecord): Promise<void> {
  await (await db()).put('shares', record);
}

export async function getShare(id: string): Promise<ShareRecord | undefined> {
  return (await db()).get('shares', id);
}

/** All shares, newest first. */
export async function listShares(): Promise<ShareRecord[]> {
  const all = await (await db()).getAll('shares');
  return all.sort((a, b) => b.createdAt - a.createdAt);
}

export async function deleteShare(id: string): Promise<void> {
  await (await db()).delete('shares', id);
}

/** Read-modify-write of one share in one transaction, so concurrent file updates do not clobber each other. */
export async function updateShare(
  id: string,
  change: (record: ShareRecord) => ShareRecord | undefined,
): Promise<ShareRecord | undefined> {
  const tx = (await db()).transaction('shares', 'readwrite');
  const current = await tx.store.get(id);
  const next = current ? change(current) : undefined;
  if (next) await tx.store.put(next);
  await tx.done;
  return next;
}

export function updateFile(id: string, index: number, patch: Partial<SentFile>): Promise<ShareRecord | undefined> {
  return updateShare(id, (record) => ({
    ...record,
    files: record.files.map((file, i) => (i === index ? { ...file, ...patch } : file)),
  }));
}

/**
 * Stores a checkpoint unless one at the same or a larger offset is already stored (another
 * tab, or an earlier run, may have got there first). Answers the checkpoint stored for the
 * file afterwards: `checkpoint` itself, the one that was kept instead, or null when the
 * share or file is gone. Only the caller can tell whether the kept one covers its bytes.
 */
export async function raiseCheckpoint(id: string, index: number, checkpoint: Checkpoint): Promise<Checkpoint | null> {
  let stored: Checkpoint | null = null;
  await updateShare(id, (record) => {
    const file = record.files[index];
    if (!file) return undefined;
    if (file.checkpoint && file.checkpoint.offset >= checkpoint.offset) {
      stored = file.checkpoint;
      return undefined;
    }
    stored = checkpoint;
    return { ...record, files: record.files.map((f, i) => (i === index ? { ...f, checkpoint } : f)) };
  });
  return stored;
}
