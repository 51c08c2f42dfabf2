/**
 * The hashing thread of `ferry` (a worker_thread started by cli/file-hasher.ts): the BLAKE3
 * of each file it is asked for, read from disk in pieces into two reused buffers (the next
 * piece is read while the one before is hashed), so memory stays flat whatever the size.
 * On its own core the hash no longer takes turns with sealing and sending on the main
 * thread (hash-wasm's BLAKE3 is 0.6 GB/s here, as slow as all the rest of `ferry send`).
 */
import { open } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { createBLAKE3 } from 'hash-wasm';
import { type HashReply, type HashRequest, parseHashRequest } from './hash-messages.ts';

const READ_BYTES = 1024 * 1024;
const buffers = [new Uint8Array(READ_BYTES), new Uint8Array(READ_BYTES)] as const;

async function blake3Of({ path, size, name }: HashRequest): Promise<string> {
  const hasher = await createBLAKE3();
  const handle = await open(path, 'r').catch((cause: unknown) => {
    throw new Error(`${name} cannot be read (${cause instanceof Error ? cause.message : String(cause)}).`);
  });
  let done = 0;
  try {
    const read = async (into: Uint8Array, at: number) => (await handle.read(into, 0, into.length, at)).bytesRead;
    let reading = read(buffers[0], 0);
    for (let i = 0; ; i++) {
      const bytes = await reading;
      if (bytes === 0) break;
      const current = buffers[i % 2] as Uint8Array;
      done += bytes;
      reading = read(buffers[(i + 1) % 2] as Uint8Array, done);
      hasher.update(current.subarray(0, bytes));
    }
  } finally {
    await handle.close();
  }
  if (done !== size) throw new Error(`${name} changed size while it was read.`);
  return hasher.digest('hex');
}

// Requests are answered one at a time, in order: the buffers are shared.
let queue = Promise.resolve();
parentPort?.on('message', (message: unknown) => {
  const request = parseHashRequest(message);
  queue = queue.then(async () => {
    let reply: HashReply;
    try {
      reply = { type: 'hashed', id: request.id, blake3: await blake3Of(request) };
    } catch (error) {
      reply = { type: 'failed', id: request.id, message: error instanceof Error ? error.message : String(error) };
    }
    parentPort?.postMessage(reply);
  });
});
