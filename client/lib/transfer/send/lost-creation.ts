/**
 * A lost answer to the creating POST: the server made the tus upload and claimed the
 * file's slot, but the 201 never arrived (network drop, server killed). Every further POST
 * for that file is refused with 409 CONFLICT ("already has an upload"), so asking again
 * cannot help; the owner view names the slot's upload (`blobId` is the tus upload id), and
 * the file continues there. That is safe: the ciphertext of a share's file is
 * deterministic (same key, nonces, plaintext), and the content check and coverage gate
 * guard the plaintext.
 */
import type { ShareOwnerView } from '../../../../shared/api.ts';
import { parseErrorBody } from '../../../../shared/errors.ts';

interface TusLikeError {
  originalRequest?: { getMethod(): string } | null;
  originalResponse?: { getStatus(): number; getBody(): string } | null;
}

/** Whether a failed tus upload is a creating POST refused because its slot already has an upload. */
export function isLostCreation(error: unknown): boolean {
  const tus = error as TusLikeError | null | undefined;
  const request = tus?.originalRequest;
  const response = tus?.originalResponse;
  if (!request || !response) return false;
  if (request.getMethod() !== 'POST' || response.getStatus() !== 409) return false;
  let body: unknown;
  try {
    body = JSON.parse(response.getBody());
  } catch {
    body = undefined;
  }
  // 409 LENGTH_MISMATCH is also a refused creation, and one that no resume can fix.
  return parseErrorBody(body)?.code === 'CONFLICT';
}

/**
 * The absolute URL of the upload that holds file `index` in `view`, as stored for a
 * created upload (`<endpoint><blobId>`), or null when the slot has none.
 */
export function uploadUrlOfSlot(
  view: Pick<ShareOwnerView, 'files'>,
  index: number,
  endpoint: string | URL,
): string | null {
  const slot = view.files.find((f) => f.index === index);
  if (!slot?.blobId) return null;
  return new URL(encodeURIComponent(slot.blobId), endpoint).href;
}
