/**
 * What crosses between `ferry` and its hashing thread (cli/hash-worker.ts), checked where it
 * enters: a request names a file and the size it must have; the answer is its BLAKE3 or
 * why it could not be hashed. The thread's side is checked by hand, not with zod: zod
 * loaded into the thread's own isolate costs 9.5 MiB of the command's peak RSS (measured:
 * an idle thread 10 MiB, with zod 19 MiB), and `ferry send` must stay under 150 MiB.
 */
export interface HashRequest {
  id: number;
  path: string;
  size: number;
  /** The file's name in the share, for error messages. */
  name: string;
}

export type HashReply =
  | { type: 'hashed'; id: number; blake3: string }
  | { type: 'failed'; id: number; message: string };

type Fields = Partial<Record<keyof HashRequest, unknown>>;

/** The request in `message`, or a TypeError saying what is wrong with it. */
export function parseHashRequest(message: unknown): HashRequest {
  const m: Fields = typeof message === 'object' && message !== null ? message : {};
  if (!Number.isSafeInteger(m.id)) throw new TypeError('hash request: id must be an integer');
  if (typeof m.path !== 'string') throw new TypeError('hash request: path must be a string');
  if (!Number.isSafeInteger(m.size) || (m.size as number) < 0) throw new TypeError('hash request: bad size');
  if (typeof m.name !== 'string') throw new TypeError('hash request: name must be a string');
  return { id: m.id as number, path: m.path, size: m.size as number, name: m.name };
}
