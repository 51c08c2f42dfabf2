/** The `dedup` store: sealed blobs this browser may reuse, keyed by plaintext BLAKE3. */
import { type DedupEntry, db } from './db.ts';

/** The cheap first match: same size, name and modification time. */
export function fingerprintOf(file: { size: number; name: string; lastModified: number }): string {
  return `${file.size}:${file.lastModified}:${file.name}`;
}

/** Live entries whose fingerprint matches; expired ones met on the way are deleted. */
export async function candidatesFor(fingerprint: string, now = Date.now()): Promise<DedupEntry[]> {
  const database = await db();
  const found = await database.getAllFromIndex('dedup', 'fingerprint', fingerprint);
  const live = found.filter((entry) => entry.expiresAt > now);
  await Promise.all(found.filter((e) => e.expiresAt <= now).map((e) => database.delete('dedup', e.blake3)));
  return live;
}

export async function getDedup(blake3: string, now = Date.now()): Promise<DedupEntry | undefined> {
  const entry = await (await db()).get('dedup', blake3);
  return entry && entry.expiresAt > now ? entry : undefined;
}

export async function putDedup(entry: DedupEntry): Promise<void> {
  await (await db()).put('dedup', entry);
}

/** Forgets one entry, e.g. when the server no longer has its blob. */
export async function deleteDedup(blake3: string): Promise<void> {
  await (await db()).delete('dedup', blake3);
}

/** Forgets the blobs a share kept alive (revoked or expired). */
export async function forgetShareBlobs(shareId: string): Promise<void> {
  const database = await db();
  const keys = await database.getAllKeysFromIndex('dedup', 'shareId', shareId);
  await Promise.all(keys.map((key) => database.delete('dedup', key)));
}

export async function purgeExpiredDedup(now = Date.now()): Promise<void> {
  const database = await db();
  const all = await database.getAll('dedup');
  await Promise.all(all.filter((e) => e.expiresAt <= now).map((e) => database.delete('dedup', e.blake3)));
}
