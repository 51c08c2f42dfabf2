/**
 * The service worker's half of a download it fetches itself, for browsers that cannot
 * transfer a ReadableStream to it (Safari: `postMessage` of a stream throws DataCloneError).
 * The page hands over, once, what the receive worker would get (messages.ts `SwFetchFile`:
 * the share, the ticket, the record layout, the expected BLAKE3 and the file's raw key);
 * this worker runs the same pipeline (decrypt-file.ts: ranged GETs that resume after a
 * dropped connection, every record opened with shared/records.ts, the whole-file hash
 * checked before the last bytes leave) and serves the result like a transferred stream.
 *
 * The key is imported non-extractable, its bytes in the message zeroed, and it lives only
 * in this download's pipeline: nothing is stored, and the server never sees it.
 *
 * The page hears `progress` about once a second (also its sign that this worker is alive),
 * `failed` with the file's error code when anything fails, `delivered` as for any download.
 */

import { FerryError } from '../../../../shared/errors.ts';
import { importAesKey } from '../../../../shared/keys.ts';
import { DECRYPT_DEPS, type DecryptDeps, decryptFile, jobOf } from './decrypt-file.ts';
import { parseSwHash, type SwDownload, type SwFetch, type SwReply } from './messages.ts';
import { BEAT_MS, READER_STALL_MS, watched } from './watched-stream.ts';

/**
 * The page polls the final manifest for up to final-hash.ts FINAL_HASH_TIMEOUT_MS (10 min);
 * no answer by this time means it is gone. (Not imported: final-hash.ts bundles the API's schemas.)
 */
export const HASH_ANSWER_MS = 11 * 60_000;

/**
 * The download `request` describes, as a pull-driven stream (nothing is fetched before the
 * browser reads) that errors on any failure, after telling `port`.
 */
export async function fetchedDownload(
  request: SwFetch,
  port: MessagePort | null,
  deps: DecryptDeps = DECRYPT_DEPS,
): Promise<SwDownload> {
  const { file } = request;
  const key = await importAesKey(file.keyBytes);
  file.keyBytes.fill(0);
  const post = (reply: SwReply) => port?.postMessage(reply);
  const finalHash = file.blake3 === null ? () => askForHash(port, file.name) : undefined;
  const { stream } = decryptFile(jobOf(file, key, finalHash), deps);
  let counted = 0;
  const counting = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      counted += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  const copy = watched(stream.pipeThrough(counting), {
    stallMs: READER_STALL_MS,
    beatMs: BEAT_MS,
    beat: () => post({ type: 'progress', bytes: counted }),
  });
  copy.done.catch((error: unknown) => {
    const failure =
      error instanceof FerryError
        ? error
        : new FerryError('DOWNLOAD_INCOMPLETE', `${file.name}: the download failed.`, { cause: error });
    post({ type: 'failed', code: failure.code, message: failure.message });
  });
  return { type: 'download', id: request.id, name: file.name, size: file.size, stream: copy.readable };
}

/**
 * A file received while its sender still uploads learns its hash from the final manifest,
 * which only the page can open (the metadata key stays there): ask it on the port.
 */
function askForHash(port: MessagePort | null, name: string): Promise<string> {
  const noHash = (detail: string) => new FerryError('FILE_HASH_MISMATCH', `${name} failed verification: ${detail}.`);
  if (!port) return Promise.reject(noHash('its page is gone'));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(noHash('its page did not send the final hash')), HASH_ANSWER_MS);
    port.onmessage = (event: MessageEvent<unknown>) => {
      const answer = parseSwHash(event.data);
      if (!answer) return;
      clearTimeout(timer);
      port.onmessage = null;
      if (answer.type === 'hash') resolve(answer.blake3);
      else reject(new FerryError(answer.code, answer.message));
    };
    const ask: SwReply = { type: 'need-hash' };
    port.postMessage(ask);
  });
}
