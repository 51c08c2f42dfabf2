/**
 * The whole-file check every receiving path ends with, after each record has opened on its
 * own (record-stream.ts): the BLAKE3 of the plaintext must equal the manifest's. One
 * sentence for a mismatch, one comparison, and the stream gate that holds a file's last
 * bytes back until the comparison passed. The download and Download all (through
 * client/lib/transfer/receive/decrypt-file.ts), the service worker saving a stored copy,
 * the export of a file received from a nearby device and the engine's VerifyingSink
 * (p2p/verifying-sink.ts) all use these. Only Web Streams: browsers and Node ≥ 20 alike.
 */
import { FerryError } from './errors.ts';

/** The part of hash-wasm's IHasher a check needs (tests may pass one that has seen a prefix). */
export interface IncrementalHasher {
  update(data: Uint8Array): unknown;
  digest(encoding: 'hex'): string;
}

/** The BLAKE3 of a file differs from the sender's: the file is not what was sent. */
export function hashMismatch(name: string): FerryError {
  return new FerryError(
    'FILE_HASH_MISMATCH',
    `${name} failed verification: its BLAKE3 hash does not match the sender’s.`,
  );
}

/** Throws hashMismatch unless `hasher`, having seen every byte of `name`, gives `expected` (hex). */
export function checkDigest(hasher: IncrementalHasher, expected: string, name: string): void {
  if (hasher.digest('hex') !== expected) throw hashMismatch(name);
}

/**
 * The last gate before plaintext leaves Ferry: hashes what passes through and releases the
 * LAST chunk only once the whole-file BLAKE3 equals `expected` (hex). A sink (a download, a
 * ZIP entry, a file on disk) therefore never receives a complete file that was not
 * verified: on a mismatch, or when anything upstream fails, the stream errors instead of
 * closing, and the browser marks the download failed (Streams §6.2.3: a transform's
 * flush() that throws errors the readable side). `settle` runs at that moment with no
 * argument, or with the failure, before the consumer sees the end. The hasher may still be
 * loading (hash-wasm compiles its WebAssembly asynchronously), so it is awaited.
 *
 * `expected` may be a function, called once every byte has passed: a file received while
 * the sender was still uploading learns its hash only from the final manifest
 * (client/lib/transfer/receive/final-hash.ts). Until it answers, the last chunk stays held
 * back; if it fails, the stream errors with its failure.
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
      const hash = await hasher;
      try {
        checkDigest(hash, typeof expected === 'string' ? expected : await expected(), name);
      } catch (error) {
        const failure = error instanceof FerryError ? error : hashMismatch(name);
        settle(failure);
        throw failure;
      }
      settle();
      if (held) controller.enqueue(held);
      held = null;
    },
  });
}
