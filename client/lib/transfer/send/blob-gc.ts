/**
 * Spent request-body Blobs are freed only by a major GC of the page that made them: a
 * Blob's bytes live outside V8 (in the browser process, and in the renderer until then),
 * so V8 does not count them when it decides to collect, and a page with a 12 MiB heap
 * seldom decides to. What V8 does count is the length of every ArrayBuffer allocated,
 * touched or not. So each time a Blob of n ciphertext bytes is made for an upload, the
 * page also allocates and drops an ArrayBuffer of `BLOB_GC_WEIGHT` × n bytes that is never
 * written: its pages are never touched, so it costs no memory, but the page's GC now sees
 * the Blob's size and runs in step with the upload. Measured with bench/send-page, no
 * DevTools attached (bench/README.md "Sender memory"): a 1 GiB send peaked at 663–853 MiB
 * for the whole browser without it and 475–595 MiB with it (fetch PUT of the file: ~420).
 */

/**
 * Bytes of GC weight per byte of a Blob made for a request body. 1, 2 and 4 measured alike
 * at 1 GiB (peaks 475–595, 477–588, 450–565 MiB), all well below no weight; a heavier one
 * only makes the page collect more often.
 */
export const BLOB_GC_WEIGHT = 1;

/** Tells the page's GC about a `bytes`-long Blob just made (see above); allocates nothing it keeps. */
export function weighBlob(bytes: number): void {
  if (bytes > 0) void new ArrayBuffer(Math.ceil(bytes * BLOB_GC_WEIGHT));
}
