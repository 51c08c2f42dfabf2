/** What each caller may read of a request. */
import type { RequestInfo, RequestOwnerView, RequestUpload } from '../../shared/request-api.ts';
import type { ShareStore } from '../shares/store.ts';
import { requestState, uploadShare } from './access.ts';
import type { RequestRecord, RequestStore } from './store.ts';

export function requestInfo(request: RequestRecord): RequestInfo {
  return {
    id: request.id,
    expiresAt: request.expiresAt,
    maxBytes: request.maxBytes,
    maxFiles: request.maxFiles,
    usedBytes: request.usedBytes,
    usedFiles: request.usedFiles,
  };
}

/** The requester's view: limits, state and every upload with the state of its share. */
export async function requestOwnerView(
  request: RequestRecord,
  stores: { requests: RequestStore; shares: ShareStore },
  now: number,
): Promise<RequestOwnerView> {
  const uploads: RequestUpload[] = [];
  for (const upload of await stores.requests.listUploads(request.id)) {
    const share = await uploadShare(stores.shares, upload);
    const gone = !share || share.purged || share.state === 'revoked' || share.expiresAt <= now;
    uploads.push({ ...upload, state: gone ? 'gone' : share.state === 'ready' ? 'ready' : 'uploading' });
  }
  return { ...requestInfo(request), state: requestState(request, now), uploads };
}
