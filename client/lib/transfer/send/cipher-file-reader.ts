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
  /** Ciphertext bytes [start, end). */
  encrypt: (start: number, end: number) => Promise<Uint8Array<ArrayBuffer>>;
  /**
   * Awaited before plaintext [0, plainEnd) is encrypted. The sender uses it to make sure a
   * hash checkpoint covering those bytes is stored first, so that after a reload a file
   * chosen again can be proven identical to everything ever encrypted under this nonce.
   */
  beforeEncrypt?: (plainEnd: number) => Promise<void>;
}

/** The plaintext bytes [0, end) that ciphertext [start, end) depends on. */
export function plainEndOf(layout: RecordLayout, cipherEnd: number): number {
  if (cipherEnd <= 0) return 0;
  return plainRange(layout, recordAtCipherOffset(layout, cipherEnd - 1))[1];
}

export function cipherSourceOf(source: CipherSource): TusFileSource {
  const size = encryptedSize(source.layout);
  return {
    size,
    async slice(start: number, end: number) {
      const stop = Math.min(end, size);
      await source.beforeEncrypt?.(plainEndOf(source.layout, stop));
      const bytes = await source.encrypt(start, stop);
      return { value: new Blob([bytes]), done: stop >= size };
    },
    close() {},
  };
}

/** A fileReader for one upload; tus passes Uppy's File as `input`, which we ignore. */
export function cipherFileReader(source: CipherSource): TusFileReader {
  return { openFile: async () => cipherSourceOf(source) };
}
