/**
 * The hash bench page: the app's own Hasher (client/lib/transfer/hash) against a single
 * hash-wasm blake3() call over the same bytes in memory, in the same page.
 */
import { blake3 } from 'hash-wasm';
import { Hasher } from '../../client/lib/transfer/hash/hasher.ts';
import type { BenchWindow, HashRun } from './api.ts';

const hasher = new Hasher();

function pickedFile(): File {
  const file = (document.getElementById('file') as HTMLInputElement).files?.[0];
  if (!file) throw new Error('no file picked');
  return file;
}

let warm = false;
async function warmUp(): Promise<void> {
  if (warm) return;
  // Start the worker and both wasm instances outside the timed runs.
  await hasher.hash(new Blob([new Uint8Array(1024)]));
  await blake3(new Uint8Array(1024));
  warm = true;
}

(window as unknown as BenchWindow).ferryBench = {
  async hasher(): Promise<HashRun> {
    await warmUp();
    const file = pickedFile();
    const t0 = performance.now();
    const digest = await hasher.hash(file);
    return { ms: performance.now() - t0, digest };
  },
  async oneShot(): Promise<HashRun> {
    await warmUp();
    let bytes: Uint8Array | undefined = new Uint8Array(await pickedFile().arrayBuffer());
    const t0 = performance.now();
    const digest = await blake3(bytes);
    const ms = performance.now() - t0;
    bytes = undefined;
    return { ms, digest };
  },
};
document.title = 'ready';
