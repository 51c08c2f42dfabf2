/**
 * The receive worker: fetches, decrypts and verifies files (decrypt-file.ts) off the main
 * thread and hands each file's plaintext to the page as a transferred ReadableStream
 * (Streams §8 "transferable streams"), so the page only moves verified bytes to a sink.
 * Owned by `Decryptor`.
 */
/// <reference lib="webworker" />

import { toBase64Url } from '../../../../shared/encoding.ts';
import { FerryError } from '../../../../shared/errors.ts';
import { decryptFile, jobOf } from './decrypt-file.ts';
import { waitForFinalHash } from './final-hash.ts';
import { parseReceiveRequest, type ReceiveEvent } from './messages.ts';

declare const self: DedicatedWorkerGlobalScope;

function post(event: ReceiveEvent, transfer: Transferable[] = []): void {
  self.postMessage(event, transfer);
}

self.onmessage = (message: MessageEvent<unknown>) => {
  const request = parseReceiveRequest(message.data);
  if (!request) return;
  const { job, file } = request;
  const { metaKey } = file;
  const finalHash =
    metaKey === null
      ? undefined
      : () =>
          waitForFinalHash({
            shareId: file.shareId,
            index: file.index,
            readerToken: file.readerToken,
            metaKey,
            file: { name: file.name, size: file.size, recordSize: file.recordSize, nonce: toBase64Url(file.nonceBase) },
          });
  const { stream, result } = decryptFile(jobOf(file, file.key, finalHash));
  result.then(
    () => post({ type: 'verified', job }),
    (error: unknown) => {
      const failure = error instanceof FerryError ? error : new FerryError('INTERNAL', String(error));
      post({ type: 'failed', job, code: failure.code, message: failure.message });
    },
  );
  post({ type: 'stream', job, stream }, [stream as unknown as Transferable]);
};
