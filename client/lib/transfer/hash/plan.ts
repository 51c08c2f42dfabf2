/** One read of the hash worker: bytes [start, end), and whether a checkpoint ends there. */
export interface HashStep {
  start: number;
  end: number;
  checkpoint: boolean;
}

/**
 * The reads that hash bytes [0, end): at most `readBytes` each, and cut so that every
 * multiple of `checkpointEvery` (when > 0) ends a read. An empty range is one empty read,
 * so the caller still reaches its final digest.
 */
export function* hashPlan(end: number, readBytes: number, checkpointEvery: number): Generator<HashStep> {
  if (end === 0) {
    yield { start: 0, end: 0, checkpoint: false };
    return;
  }
  let start = 0;
  while (start < end) {
    let stop = Math.min(end, start + readBytes);
    let checkpoint = false;
    if (checkpointEvery > 0) {
      const next = (Math.floor(start / checkpointEvery) + 1) * checkpointEvery;
      if (next <= stop) {
        stop = next;
        checkpoint = true;
      }
    }
    yield { start, end: stop, checkpoint };
    start = stop;
  }
}
