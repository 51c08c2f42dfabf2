/**
 * Encrypts ciphertext ranges of the files being sent, off the main thread. Each range is
 * exactly what shared/record-stream.ts `sealParts` gives: only the records the range touches
 * are read and sealed, so a tus chunk of 8 MiB costs 8 MiB of memory, not a whole file
 * (plus, while a send hashes here, at most one checkpoint span read ahead: plain-reader.ts).
 * Each range goes back as its sealed records' buffers, transferred: encrypt-messages.ts says why.
 */
/// <reference lib="webworker" />
import { createBLAKE3 } from 'hash-wasm';
import { FerryError } from '../../../../shared/errors.ts';
import { plainSpan, sealParts } from '../../../../shared/record-stream.ts';
import type { FileCipher } from '../../../../shared/records.ts';
import { type EncryptEvent, parseEncryptRequest } from './encrypt-messages.ts';
import { type HashNews, PlainReader } from './plain-reader.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
interface Entry {
  cipher: FileCipher;
  reader: Promise<PlainReader>;
  /** Ranges read and waiting for the page's `go` (or `cancel`). */
  waiting: Map<number, (go: boolean) => void>;
}
const open = new Map<number, Entry>();

function post(event: EncryptEvent): void {
  scope.postMessage(event);
}

/** The buffers behind `parts`, each once (a transfer list must not repeat one). */
function transferOf(parts: readonly Uint8Array<ArrayBuffer>[]): ArrayBuffer[] {
  return [...new Set(parts.map((part) => part.buffer))];
}

scope.onmessage = async (message: MessageEvent<unknown>) => {
  const request = parseEncryptRequest(message.data);
  if (!request) return;
  switch (request.type) {
    case 'open': {
      const { file, fileId, checkpointEvery } = request;
      const read = async (start: number, end: number) => new Uint8Array(await file.slice(start, end).arrayBuffer());
      const report = (news: HashNews) => post({ ...news, fileId });
      open.set(fileId, {
        cipher: {
          key: request.key,
          nonceBase: request.nonceBase,
          recordSize: request.recordSize,
          size: file.size,
          name: request.name,
        },
        reader:
          checkpointEvery > 0
            ? createBLAKE3().then(
                (hasher) => new PlainReader(read, file.size, { checkpointEvery, hasher, report }),
                () => {
                  report({ type: 'unhashed' });
                  return new PlainReader(read, file.size, { checkpointEvery: 0 });
                },
              )
            : Promise.resolve(new PlainReader(read, file.size, { checkpointEvery: 0 })),
        waiting: new Map(),
      });
      return;
    }
    case 'close': {
      const entry = open.get(request.fileId);
      open.delete(request.fileId);
      for (const answer of entry?.waiting.values() ?? []) answer(false);
      (await entry?.reader)?.release();
      return;
    }
    case 'go':
    case 'cancel':
      open.get(request.fileId)?.waiting.get(request.job)?.(request.type === 'go');
      return;
    case 'range': {
      const entry = open.get(request.fileId);
      const { job, start, end } = request;
      try {
        if (!entry) throw new FerryError('INTERNAL', 'The file is not open for encryption.');
        const [plainStart, plainEnd] = plainSpan(entry.cipher, start, end);
        const plain = await (await entry.reader).plain(plainStart, plainEnd);
        // Sealed only once the page has stored the checkpoints this read reported.
        const go = await new Promise<boolean>((resolve) => {
          entry.waiting.set(job, resolve);
          post({ type: 'ready', job, plainEnd });
        });
        entry.waiting.delete(job);
        if (!go) return;
        // Transferred, not copied; the page, not this worker, makes them a Blob (encrypt-messages.ts).
        const parts = await sealParts(entry.cipher, plain, start, end);
        scope.postMessage({ type: 'range', job, parts } satisfies EncryptEvent, transferOf(parts));
      } catch (error) {
        const code = error instanceof FerryError ? error.code : 'CONTENT_CHANGED';
        const text = error instanceof Error ? error.message : String(error);
        const name = entry?.cipher.name ?? 'the file';
        post({
          type: 'error',
          job,
          code,
          message: code === 'CONTENT_CHANGED' ? `${name} could not be read any more (${text}).` : text,
        });
      }
      return;
    }
  }
};
