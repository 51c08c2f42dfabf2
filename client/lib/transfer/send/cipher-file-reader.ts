/**
 * A tus-js-client `fileReader` that serves ciphertext instead of the file's bytes.
 * tus-js-client 4 asks `openFile(input, chunkSize)` for a source `{ size, slice, close }`
 * and takes the upload's length from `size`, so we report the exact ciphertext length
 * (shared/records.ts `encryptedSize`) and encrypt exactly the records each slice needs.
 * It reads `value.size` of each slice, hence a Blob rather than a Uint8Array.
 */
import type { FileReader as TusFileReader, FileSource as TusFileSource } from 'tus-js-client';
import { encryptedSize, plainRange, type RecordLayout, recordAtCipherOffset } from '../../../../shared/records.ts';

export interface CipherSource {
  layout: RecordLayout;
  /** Ciphertext bytes [start, end): a Blob is used as it is, bytes are copied into one. */
  encrypt: (start: number, end: number) => Promise<Blob | Uint8Array<ArrayBuffer>>;
  /**
   * Awaited before plaintext [0, plainEnd) is encrypted. The sender uses it to make sure a
   * hash checkpoint covering those bytes is stored first, so that after a reload a file
   * chosen again can be proven identical to everything ever encrypted under this nonce.
   */
  beforeEncrypt?: (plainEnd: number) => Promise<void>;
  /**
   * Once a slice is ready, start encrypting the next one of the same length (tus asks for
   * consecutive chunks, one PATCH at a time), so encryption overlaps the upload. At most one
   * slice is held ahead; a slice asked for anywhere else (a retry after a HEAD) drops it.
   * Every slice read ahead still waits for `beforeEncrypt` first.
   */
  readAhead?: boolean;
}

/** The plaintext bytes [0, end) that ciphertext [start, end) depends on. */
export function plainEndOf(layout: RecordLayout, cipherEnd: number): number {
  if (cipherEnd <= 0) return 0;
  return plainRange(layout, recordAtCipherOffset(layout, cipherEnd - 1))[1];
}

export function cipherSourceOf(source: CipherSource): TusFileSource {
  const size = encryptedSize(source.layout);
  // The Encryptor hands over a Blob; plain bytes are made one.
  const produce = async (start: number, stop: number): Promise<Blob> => {
    await source.beforeEncrypt?.(plainEndOf(source.layout, stop));
    const bytes = await source.encrypt(start, stop);
    return bytes instanceof Blob ? bytes : new Blob([bytes]);
  };
  let ahead: { start: number; stop: number; value: Promise<Blob> } | undefined;
  let closed = false;
  return {
    size,
    async slice(start: number, end: number) {
      const stop = Math.min(end, size);
      const value = ahead?.start === start && ahead.stop === stop ? ahead.value : produce(start, stop);
      ahead = undefined;
      const ready = await value;
      if (source.readAhead && !closed && stop < size) {
        const next = Math.min(size, stop + (stop - start));
        ahead = { start: stop, stop: next, value: produce(stop, next) };
        // Reported when tus asks for this slice; dropped unseen if it never does.
        ahead.value.catch(() => undefined);
      }
      return { value: ready, done: stop >= size };
    },
    close() {
      closed = true;
      ahead = undefined;
    },
  };
}

/** A fileReader for one upload; tus passes Uppy's File as `input`, which we ignore. */
export function cipherFileReader(source: CipherSource): TusFileReader {
  return { openFile: async () => cipherSourceOf(source) };
}
