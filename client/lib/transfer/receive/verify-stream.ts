/**
 * The last gate before plaintext leaves Ferry: a TransformStream that hashes every chunk
 * and holds the LAST one back until the whole-file BLAKE3 matches the manifest. A sink
 * (a download, a ZIP entry, a file on disk) therefore never receives a complete file that
 * was not verified: on a mismatch, or when anything upstream fails, the stream errors
 * instead of closing, and the browser marks the download failed (Streams §6.2.3: a
 * transform's flush() that throws errors the readable side).
 */
import { FerryError } from '../../../../shared/errors.ts';

/** The part of hash-wasm's IHasher this needs; tests pass a fake. */
export interface IncrementalHasher {
  update(data: Uint8Array): unknown;
  digest(encoding: 'hex'): string;
}

/** Thrown when the whole-file hash differs from the manifest's. */
export function hashMismatch(name: string): FerryError {
  return new FerryError(
    'FILE_HASH_MISMATCH',
    `${name} failed verification: its BLAKE3 hash does not match the sender’s.`,
  );
}

/**
 * Hashes what passes through and releases the final chunk only once `expected` (hex) is
 * confirmed. `settle` runs at that moment with no argument, or with the mismatch error,
 * before the consumer sees the end. The hasher may still be loading (hash-wasm compiles
 * its WebAssembly asynchronously), so it is awaited.
 *
 * `expected` may be a function, called once every byte has passed: a file received while
 * the sender was still uploading learns its hash only from the final manifest
 * (final-hash.ts). Until it answers, the last chunk stays held back; if it fails, the
 * stream errors with its failure.
 */
export function verifyingStream(
  hasher: IncrementalHasher | Promise<IncrementalHasher>,
  expected: string | (() => Promise<string>),
  name: string,
  settle: (failure?: FerryError) => void = () => {},
): TransformStream<Uint8Array, Uint8Array> {
  let held: Uint8Array | null = null;
  return new TransformStream({
    async transform(chunk, controller) {
      (await hasher).update(chunk);
      if (held) controller.enqueue(held);
      held = chunk;
    },
    async flush(controller) {
      const digest = (await hasher).digest('hex');
      let want: string;
      try {
        want = typeof expected === 'string' ? expected : await expected();
      } catch (error) {
        const failure = error instanceof FerryError ? error : hashMismatch(name);
        settle(failure);
        throw failure;
      }
      if (digest !== want) {
        const failure = hashMismatch(name);
        settle(failure);
        throw failure;
      }
      settle();
      if (held) controller.enqueue(held);
      held = null;
    },
  });
}
