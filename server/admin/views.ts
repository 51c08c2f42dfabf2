/** What the admin sees of shares, request links and keys: sizes, counts, times, states; never a name. */
import type { AdminRequest, AdminShare, UploadKeyView } from '../../shared/access-api.ts';
import type { Reservation, UploadKeyRecord } from '../access/store.ts';
import { QUOTA_WINDOW_MS } from '../access/upload-access.ts';
import type { AppDeps } from '../deps.ts';
import type { RequestRecord } from '../requests/store.ts';
import { downloadsUsedUp } from '../shares/access.ts';
import type { ShareRecord } from '../shares/store.ts';

export function shareView(reservation: Reservation, share: ShareRecord, now: number): AdminShare {
  return {
    id: share.id,
    kind: reservation.kind,
    createdAt: share.createdAt,
    expiresAt: share.expiresAt,
    bytes: reservation.bytes,
    files: share.slots.length,
    downloads: share.downloads,
    maxDownloads: share.maxDownloads,
    state:
      share.state === 'revoked'
        ? 'revoked'
        : share.purged || share.expiresAt <= now
          ? 'expired'
          : downloadsUsedUp(share)
            ? 'downloads-used'
            : share.state,
    keyId: reservation.keyId,
  };
}

export function requestView(request: RequestRecord, uploads: number, keyId: string | null, now: number): AdminRequest {
  return {
    id: request.id,
    createdAt: request.createdAt,
    expiresAt: request.expiresAt,
    maxBytes: request.maxBytes,
    usedBytes: request.usedBytes,
    maxFiles: request.maxFiles,
    uploads,
    state: request.closedAt !== null ? 'closed' : request.expiresAt <= now ? 'expired' : 'open',
    keyId,
  };
}

export async function keyView(key: UploadKeyRecord, deps: AppDeps, now: number): Promise<UploadKeyView> {
  const usage = await deps.access.keyUsage(key.id, now, QUOTA_WINDOW_MS);
  return {
    id: key.id,
    label: key.label,
    maxStoredBytes: key.maxStoredBytes,
    maxDailyBytes: key.maxDailyBytes,
    expiresAt: key.expiresAt,
    createdAt: key.createdAt,
    revokedAt: key.revokedAt,
    state: key.revokedAt !== null ? 'revoked' : key.expiresAt !== null && key.expiresAt <= now ? 'expired' : 'active',
    usage: { storedBytes: usage.storedBytes, dailyBytes: usage.windowBytes, liveShares: usage.liveShares },
  };
}
