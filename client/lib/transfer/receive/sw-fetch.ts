/**
 * The service worker's half of a download it fetches itself, for browsers that cannot
 * transfer a ReadableStream to it (Safari: `postMessage` of a stream throws DataCloneError).
 * The page hands over, once, what the receive worker would get for each file (messages.ts
 * `SwFetchFile`: the share, the ticket, the record layout, the expected BLAKE3 and the
 * file's raw key); this worker runs the same pipeline (decrypt-file.ts: ranged GETs that
 * resume after a dropped connection, every record opened with shared/records.ts, the
 * whole-file hash checked before the last bytes leave) and serves the result like a
 * transferred stream: one file as itself, or "Download all" as the same streamed ZIP the
 * page builds where it can stream (zip.ts), each file fetched only when the archive
 * reaches it. A file that fails errors the archive, which is then never completed.
 *
 * Keys are imported non-extractable, their bytes in the message zeroed, and they live only
 * in this download's pipeline: nothing is stored, and the server never sees them.
 *
 * The page hears, naming each file by its position: `started`, `progress` about once a
 * second (also its sign that this worker is alive), `verified`, `failed` with the file's
 * error code when anything fails; then `delivered` as for any download.
 */

import { FerryError } from '../../../../shared/errors.ts';
import { importAesKey } from '../../../../shared/keys.ts';
import { DECRYPT_DEPS, type DecryptDeps, decryptFile, jobOf } from './decrypt-file.ts';
import { parseSwHash, type SwDownload, type SwFetch, type SwReply } from './messages.ts';
import { BEAT_MS, READER_STALL_MS, watched } from './watched-stream.ts';
import { type ZipFile, zipLength, zipStream } from './zip.ts';

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
  return servedFiles(request.id, null, [file], post, () => {
    const finalHash = file.blake3 === null ? () => askForHash(port, 0, file.name) : undefined;
    return decryptFile(jobOf(file, key, finalHash), deps);
  });
}

/** One file of a download as this worker reads it: its plaintext, and its verdict. */
export interface ServedFile {
  stream: ReadableStream<Uint8Array>;
  result: Promise<void>;
}

/**
 * `files` as one download with id `id`: the one file as itself (`archive` null), or every
 * file as one ZIP named `archive` (zip.ts), each opened (`open(position)`) only when the
 * archive reaches it. `post` hears `started` and `verified` for each file by its position,
 * `progress` each beat and `failed` on any failure (servedCopy).
 */
export function servedFiles(
  id: string,
  archive: string | null,
  files: readonly ZipFile[],
  post: (reply: SwReply) => void,
  open: (position: number) => ServedFile,
): SwDownload {
  /** The file being read (a position in `files`) and its plaintext bytes so far. */
  let current = 0;
  let counted = 0;
  const start = (position: number) => {
    current = position;
    counted = 0;
    post({ type: 'started', file: position });
    const served = open(position);
    served.result.then(
      () => post({ type: 'verified', file: position }),
      () => {},
    );
    const counting = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        counted += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    return { stream: served.stream.pipeThrough(counting), result: served.result };
  };
  const none = () => {};
  const plaintext =
    archive === null
      ? start(0).stream
      : zipStream(files, async (position) => start(position), { onStart: none, onVerified: none, onFailed: none });
  const [only] = files;
  const name = archive ?? only?.name ?? 'download';
  const size = archive === null ? (only?.size ?? 0) : zipLength(files);
  const stream = servedCopy(plaintext, post, () => ({
    file: current,
    bytes: counted,
    name: files[current]?.name ?? name,
  }));
  return { type: 'download', id, name, size, stream };
}

/**
 * `plaintext` as this worker serves it: watched (the browser not reading for
 * READER_STALL_MS fails it), with `progress` for the file `at()` names each beat and
 * `failed` on any failure, both through `post`.
 */
export function servedCopy(
  plaintext: ReadableStream<Uint8Array>,
  post: (reply: SwReply) => void,
  at: () => { file: number; bytes: number; name: string },
): ReadableStream<Uint8Array> {
  const copy = watched(plaintext, {
    stallMs: READER_STALL_MS,
    beatMs: BEAT_MS,
    beat: () => {
      const { file, bytes } = at();
      post({ type: 'progress', file, bytes });
    },
  });
  copy.done.catch((error: unknown) => {
    const { file, name } = at();
    const failure =
      error instanceof FerryError
        ? error
        : new FerryError('DOWNLOAD_INCOMPLETE', `${name}: the download failed.`, { cause: error });
    post({ type: 'failed', file, code: failure.code, message: failure.message });
  });
  return copy.readable;
}

/**
 * A file received while its sender still uploads learns its hash from the final manifest,
 * which only the page can open (the metadata key stays there): ask it on the port for the
 * file at `position`. Files are fetched one after another, so one question is open at a time.
 */
function askForHash(port: MessagePort | null, position: number, name: string): Promise<string> {
  const noHash = (detail: string) => new FerryError('FILE_HASH_MISMATCH', `${name} failed verification: ${detail}.`);
  if (!port) return Promise.reject(noHash('its page is gone'));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(noHash('its page did not send the final hash')), HASH_ANSWER_MS);
    port.onmessage = (event: MessageEvent<unknown>) => {
      const answer = parseSwHash(event.data);
      if (!answer || answer.file !== position) return;
      clearTimeout(timer);
      port.onmessage = null;
      if (answer.type === 'hash') resolve(answer.blake3);
      else reject(new FerryError(answer.code, answer.message));
    };
    const ask: SwReply = { type: 'need-hash', file: position };
    port.postMessage(ask);
  });
}
