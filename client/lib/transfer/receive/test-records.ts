/**
 * Test support for the record pipeline (decrypt-file.ts, sw-fetch.ts): a sealed random
 * file and a fake server that answers Range requests from it and can drop connections.
 */
import { createBLAKE3 } from 'hash-wasm';
import { randomBytes } from '../../../../shared/encoding.ts';
import { deriveFileKeyBytes, deriveShareKeys, importAesKey, newSecret } from '../../../../shared/keys.ts';
import { encryptRange } from '../../../../shared/record-aead.ts';
import { encryptedSize, type FileCipher } from '../../../../shared/records.ts';
import type { DecryptDeps, FileJob } from './decrypt-file.ts';

/** Record size of these tests' files: small, so a few KB make many records. */
export const R = 1024;

/** A random file of `size` bytes, sealed, with its job and raw key. */
export async function setup(size: number) {
  const { contentKey } = await deriveShareKeys(newSecret());
  const nonceBase = randomBytes(12);
  const keyBytes = await deriveFileKeyBytes(contentKey, nonceBase);
  const cipher: FileCipher = {
    key: await importAesKey(keyBytes),
    nonceBase,
    size,
    recordSize: R,
    name: 'dir/a.bin',
  };
  const plain = randomBytes(size);
  const sealed = await encryptRange(cipher, async (s, e) => plain.slice(s, e), 0, encryptedSize(cipher));
  const h = await createBLAKE3();
  h.update(plain);
  const job: FileJob = {
    shareId: 'x'.repeat(16),
    index: 0,
    readerToken: 't',
    ticket: 'k',
    cipher,
    blake3: h.digest('hex'),
  };
  return { cipher, plain, sealed, job, keyBytes };
}

/** A fake server: answers from `start`, in 700-byte chunks, optionally dropping after `dropAfter` bytes. */
export function fakeServer(sealed: Uint8Array, drops: number[] = []) {
  const starts: number[] = [];
  const fetchCiphertext: DecryptDeps['fetchCiphertext'] = async (_id, _i, _auth, start = 0) => {
    starts.push(start);
    const dropAfter = drops.shift();
    let at = start;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (dropAfter !== undefined && at - start >= dropAfter) return c.error(new TypeError('network error'));
        if (at >= sealed.length) return c.close();
        c.enqueue(sealed.slice(at, at + 700));
        at += 700;
      },
    });
    return new Response(body, { status: start > 0 ? 206 : 200 });
  };
  return { starts, deps: { fetchCiphertext, sleep: async () => {}, createHasher: createBLAKE3 } satisfies DecryptDeps };
}

/** Every byte of `stream`. */
export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Where two byte arrays first differ, -1 when equal (toEqual walks megabytes element by element, for seconds). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
