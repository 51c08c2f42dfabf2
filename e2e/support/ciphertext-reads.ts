/** The ciphertext the server served a browser context, as the browser's network events show it. */
import type { BrowserContext } from '@playwright/test';

export interface CiphertextRead {
  /** The file's index in the share. */
  file: number;
  start: number;
  bytes: number;
}

/**
 * Every ciphertext GET of the context (the service worker's included), by its answer's
 * Content-Range; a 200 counts the whole body.
 */
export function watchCiphertext(context: BrowserContext): CiphertextRead[] {
  const reads: CiphertextRead[] = [];
  context.on('response', (response) => {
    const request = response.request();
    const path = /\/api\/shares\/[^/]+\/files\/(\d+)$/.exec(request.url());
    if (request.method() !== 'GET' || !path) return;
    const file = Number(path[1]);
    const range = /^bytes (\d+)-(\d+)\//.exec(response.headers()['content-range'] ?? '');
    const length = Number(response.headers()['content-length'] ?? 0);
    reads.push(
      range
        ? { file, start: Number(range[1]), bytes: Number(range[2]) - Number(range[1]) + 1 }
        : { file, start: 0, bytes: length },
    );
  });
  return reads;
}
