/**
 * BLAKE3 for the page's own verifications (a received file's whole-file hash), loaded when
 * the first one starts: hash-wasm's modules stay out of the start screen's bundle. The
 * workers import hash-wasm directly; they load on demand already. Only BLAKE3 is loaded
 * (blake3-wasm.ts), in the page and in the service worker alike.
 */
import type { IHasher } from 'hash-wasm';

/** A fresh BLAKE3 hasher, loading hash-wasm on first use. */
export async function createBlake3(): Promise<IHasher> {
  const { createBLAKE3 } = await import('./blake3-wasm.ts');
  return await createBLAKE3();
}
