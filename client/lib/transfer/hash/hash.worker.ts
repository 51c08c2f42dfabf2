/**
 * BLAKE3 of a file, read in slices so that a file of any size never sits in memory whole.
 * At every `checkpointEvery` bytes it also reports the digest of the prefix read so far
 * (hash-wasm: save() the state, digest(), load() it back); the sender stores those so a
 * file chosen again after a reload can be checked against what was already encrypted.
 */
/// <reference lib="webworker" />
import { createBLAKE3, type IHasher } from 'hash-wasm';
import { type HashEvent, parseHashRequest } from './messages.ts';
import { hashPlan } from './plan.ts';

/** 4 MiB reads: large enough for hash-wasm's throughput, small enough to stay light. */
const READ_BYTES = 4 * 1024 * 1024;

const scope = self as unknown as DedicatedWorkerGlobalScope;
let hasher: Promise<IHasher> | undefined;

function post(event: HashEvent): void {
  scope.postMessage(event);
}

scope.onmessage = async (message: MessageEvent<unknown>) => {
  const request = parseHashRequest(message.data);
  if (!request) return;
  const { job, file, checkpointEvery, end } = request;
  try {
    hasher ??= createBLAKE3();
    const h = (await hasher).init();
    for (const step of hashPlan(end, READ_BYTES, checkpointEvery)) {
      h.update(new Uint8Array(await file.slice(step.start, step.end).arrayBuffer()));
      if (step.checkpoint && step.end < end) {
        const state = h.save();
        post({ type: 'checkpoint', job, offset: step.end, digest: h.digest('hex') });
        h.load(state);
      }
      post({ type: 'progress', job, offset: step.end });
    }
    post({ type: 'done', job, offset: end, digest: h.digest('hex') });
  } catch (error) {
    // A File whose bytes changed or vanished on disk fails to read (NotReadableError).
    const message = error instanceof Error ? error.message : String(error);
    post({ type: 'error', job, code: 'CONTENT_CHANGED', message: `The file could not be read: ${message}` });
  }
};
