/**
 * BLAKE3 for the page's own verifications (a received file's whole-file hash), loaded when
 * the first one starts: hash-wasm's modules stay out of the start screen's bundle. The
 * workers import hash-wasm directly; they load on demand already.
 */
import type { IHasher } from 'hash-wasm';

/** A fresh BLAKE3 hasher, loading hash-wasm on first use. */
export async function createBlake3(): Promise<IHasher> {
  const { createBLAKE3 } = await import('hash-wasm');
  return await createBLAKE3();
}
