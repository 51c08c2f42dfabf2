/**
 * Encrypts ciphertext ranges of the files being sent, off the main thread. Each range is
 * exactly what shared/records.ts `encryptRange` gives: only the records the range touches
 * are read and sealed, so a tus chunk of 8 MiB costs 8 MiB of memory, not a whole file.
 */
/// <reference lib="webworker" />
import { FerryError } from '../../../../shared/errors.ts';
import { encryptRange, type FileCipher } from '../../../../shared/records.ts';
import { type EncryptEvent, parseEncryptRequest } from './encrypt-messages.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const open = new Map<number, { file: Blob; cipher: FileCipher }>();

function post(event: EncryptEvent, transfer: Transferable[] = []): void {
  scope.postMessage(event, transfer);
}

scope.onmessage = async (message: MessageEvent<unknown>) => {
  const request = parseEncryptRequest(message.data);
  if (!request) return;
  switch (request.type) {
    case 'open':
      open.set(request.fileId, {
        file: request.file,
        cipher: {
          key: request.key,
          nonceBase: request.nonceBase,
          recordSize: request.recordSize,
          size: request.file.size,
          name: request.name,
        },
      });
      return;
    case 'close':
      open.delete(request.fileId);
      return;
    case 'range': {
      const entry = open.get(request.fileId);
      try {
        if (!entry) throw new FerryError('INTERNAL', 'The file is not open for encryption.');
        const read = async (start: number, end: number) =>
          new Uint8Array(await entry.file.slice(start, end).arrayBuffer());
        const bytes = await encryptRange(entry.cipher, read, request.start, request.end);
        post({ type: 'range', job: request.job, bytes: bytes.buffer }, [bytes.buffer]);
      } catch (error) {
        const code = error instanceof FerryError ? error.code : 'CONTENT_CHANGED';
        const text = error instanceof Error ? error.message : String(error);
        const name = entry?.cipher.name ?? 'the file';
        post({
          type: 'error',
          job: request.job,
          code,
          message: code === 'CONTENT_CHANGED' ? `${name} could not be read any more (${text}).` : text,
        });
      }
      return;
    }
  }
};
