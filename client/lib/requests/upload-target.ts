/** A sender's send into a request link: the Sender's ShareTarget for one upload. */
import type { CreateShareRequest } from '../../../shared/api.ts';
import { FerryError } from '../../../shared/errors.ts';
import type { CreateUploadBody } from '../../../shared/request-api.ts';
import { senderUploadSecret } from '../../../shared/request-keys.ts';
import type { ShareTarget } from '../transfer/send/sender.svelte.ts';
import { createUpload } from './request-client.ts';

/** The body of a request upload for a planned share: only what the request route takes. */
export function uploadBody(share: CreateShareRequest, senderKey: string): CreateUploadBody {
  return {
    senderKey,
    readerHash: share.readerHash,
    manifest: share.manifest,
    files: share.files.map((file) => {
      if (!('size' in file)) throw new FerryError('INTERNAL', 'A request upload cannot reuse an earlier upload.');
      return { size: file.size };
    }),
  };
}

/**
 * A fresh ephemeral key pair for this upload, the secret it shares with the requester, and
 * the creation through the request's route (which checks the requester's limits).
 */
export async function uploadTarget(requestId: string, requesterKey: string): Promise<ShareTarget> {
  const { senderKey, secret } = await senderUploadSecret(requestId, requesterKey);
  return { secret, create: (share) => createUpload(requestId, uploadBody(share, senderKey)) };
}
