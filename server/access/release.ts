/**
 * Releasing the bytes of shares that died: revoked, expired (or swept to a tombstone) or
 * gone. Runs after every collection (the sweeper's pass, and each revoke, which collects at
 * once), so a revoked share's bytes are free before its revoke is answered.
 */
import type { RequestStore } from '../requests/store.ts';
import type { ShareStore } from '../shares/store.ts';
import type { AccessStore } from './store.ts';
import { QUOTA_WINDOW_MS } from './upload-access.ts';

/** A reservation this young may belong to a share still being created. */
const CREATION_GRACE_MS = 60_000;

export async function releaseDeadShares(
  stores: { access: AccessStore; shares: ShareStore; requests: RequestStore },
  now: number,
): Promise<void> {
  const { access, shares, requests } = stores;
  for (const reservation of await access.liveReservations()) {
    const share = await shares.getShare(reservation.shareId);
    if (!share && reservation.createdAt > now - CREATION_GRACE_MS) continue;
    if (!share || share.state === 'revoked' || share.purged || share.expiresAt <= now) {
      await access.release(reservation.shareId, now);
    } else if (share.expiresAt !== reservation.expiresAt) {
      await access.setExpiry(reservation.shareId, share.expiresAt);
    }
  }
  // Released reservations count in their holder's window until it has passed.
  await access.pruneReleased(now - QUOTA_WINDOW_MS);
  for (const link of await access.listRequestLinks()) {
    if (!(await requests.getRequest(link.id))) await access.forgetRequestLink(link.id);
  }
}
