/** Share records as the API answers them (shared/api.ts): public info, reader files, owner view. */
import type { ShareFileState, ShareInfo, ShareOwnerView } from '../../shared/api.ts';
import type { BlobStore } from '../uploads/blob-store.ts';
import type { ShareRecord } from './store.ts';

export async function fileStates(share: ShareRecord, blobs: BlobStore): Promise<ShareFileState[]> {
  return Promise.all(
    share.slots.map(async (slot) => {
      let uploaded = 0;
      if (slot.sealed) uploaded = slot.size;
      else if (slot.blobId) uploaded = slot.base + ((await blobs.size(slot.blobId)) ?? 0);
      return { index: slot.index, size: slot.size, uploaded, sealed: slot.sealed };
    }),
  );
}

export function shareInfo(share: ShareRecord): ShareInfo {
  return {
    id: share.id,
    state: share.state === 'ready' ? 'ready' : 'uploading',
    expiresAt: share.expiresAt,
    maxDownloads: share.maxDownloads,
    downloads: share.downloads,
    fileCount: share.slots.length,
    password: share.password,
  };
}

export async function ownerView(share: ShareRecord, blobs: BlobStore): Promise<ShareOwnerView> {
  const states = await fileStates(share, blobs);
  return {
    ...shareInfo(share),
    files: states.map((state, i) => ({
      ...state,
      blobId: share.slots[i]?.blobId ?? null,
      blobToken: share.slots[i]?.blobToken ?? null,
    })),
  };
}
