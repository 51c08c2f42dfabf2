/** Loading a share for a request: the one place that decides 404 / 410 and who may see it. */
import { shareIdSchema } from '../../shared/api.ts';
import { FerryError } from '../../shared/errors.ts';
import type { ShareRecord, ShareStore } from './store.ts';

/**
 * The share with this id, if it is still live. Ids are checked against the schema before
 * the store sees them. Revoked wins over expired; swept shares keep a tombstone that still
 * answers 410 for a week.
 */
export async function loadLiveShare(store: ShareStore, rawId: string | undefined, now: number): Promise<ShareRecord> {
  const id = shareIdSchema.safeParse(rawId);
  if (!id.success) throw new FerryError('SHARE_NOT_FOUND', 'There is no share with this id.');
  const share = await store.getShare(id.data);
  if (!share) throw new FerryError('SHARE_NOT_FOUND', 'There is no share with this id.');
  if (share.state === 'revoked') throw new FerryError('SHARE_REVOKED', 'The sender has deleted this share.');
  if (share.purged || share.expiresAt <= now) throw new FerryError('SHARE_EXPIRED', 'This share has expired.');
  return share;
}

export function downloadsUsedUp(share: ShareRecord): boolean {
  return share.maxDownloads !== null && share.downloads >= share.maxDownloads;
}

/** For recipients: a share whose downloads are used up is gone for them. */
export function assertDownloadsLeft(share: ShareRecord): void {
  if (downloadsUsedUp(share)) {
    throw new FerryError('DOWNLOAD_LIMIT_REACHED', 'This share has been downloaded as often as the sender allowed.');
  }
}
