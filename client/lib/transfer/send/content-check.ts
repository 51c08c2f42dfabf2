/**
 * The rule that keeps a resumed upload safe: never encrypt different bytes under a key and
 * nonce that were already used. Before any plaintext past byte N is encrypted, a BLAKE3
 * checkpoint of bytes [0, N) is stored (see CoverageGate). A file chosen again after a
 * reload must then have the same size and the same digest at the stored checkpoint (or the
 * same full BLAKE3 when that is known); otherwise CONTENT_CHANGED, and nothing is sent.
 */
import { FerryError } from '../../../../shared/errors.ts';
import type { Checkpoint, SentFile } from '../../store/db.ts';

/** What a re-chosen file must hash to: its first `offset` bytes to `digest`. */
export function expectedContent(sent: Pick<SentFile, 'size' | 'blake3' | 'checkpoint'>): Checkpoint | null {
  if (sent.blake3) return { offset: sent.size, digest: sent.blake3 };
  return sent.checkpoint;
}

export interface PrefixHasher {
  hash(file: Blob, options: { end: number }): Promise<string>;
}

/**
 * Resolves when `candidate` holds the bytes already sent as `sent`, else throws
 * CONTENT_CHANGED naming the file. Returns the full BLAKE3 when the check computed it.
 */
export async function checkContent(
  candidate: Blob,
  sent: Pick<SentFile, 'name' | 'size' | 'blake3' | 'checkpoint'>,
  hasher: PrefixHasher,
): Promise<string | null> {
  if (candidate.size !== sent.size) {
    throw new FerryError(
      'CONTENT_CHANGED',
      `That is not the same file: ${sent.name} was ${sent.size} bytes, this one is ${candidate.size}.`,
    );
  }
  const expected = expectedContent(sent);
  if (!expected) return null; // Nothing was encrypted yet: any file of that size is safe to send.
  const digest = await hasher.hash(candidate, { end: expected.offset });
  if (digest !== expected.digest) {
    throw new FerryError(
      'CONTENT_CHANGED',
      `${sent.name} has changed since it was partly sent. Send it again as a new share.`,
    );
  }
  return expected.offset === sent.size ? digest : null;
}

/**
 * What a run may do after storing its prefix digest `ours` when the store answers `stored`
 * (raiseCheckpoint): open its gate to `ours.offset` only if the stored checkpoint is this
 * very digest; wait if a larger one (another run's) is stored, since this run's bytes are
 * not proven equal to it yet; refuse if the same prefix hashed differently; `gone` when
 * the share is no longer stored.
 */
export function checkpointDecision(ours: Checkpoint, stored: Checkpoint | null): 'raise' | 'wait' | 'changed' | 'gone' {
  if (!stored) return 'gone';
  if (stored.offset !== ours.offset) return 'wait';
  return stored.digest === ours.digest ? 'raise' : 'changed';
}

/**
 * Lets encryption of plaintext [0, end) proceed only once a checkpoint at or past `end`
 * has been stored. Hashing is ~10× faster than uploading, so in practice nobody waits.
 */
export class CoverageGate {
  #covered: number;
  #waiters: { end: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #failure: unknown;

  constructor(covered = 0) {
    this.#covered = covered;
  }

  get covered(): number {
    return this.#covered;
  }

  /** A checkpoint at `offset` is now stored. */
  raise(offset: number): void {
    if (offset <= this.#covered) return;
    this.#covered = offset;
    this.#waiters = this.#waiters.filter((w) => {
      if (w.end > offset) return true;
      w.resolve();
      return false;
    });
  }

  /** Hashing failed: nothing more will be covered. */
  fail(error: unknown): void {
    this.#failure = error;
    for (const w of this.#waiters) w.reject(error);
    this.#waiters = [];
  }

  wait(end: number): Promise<void> {
    if (end <= this.#covered) return Promise.resolve();
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiters.push({ end, resolve, reject }));
  }
}
