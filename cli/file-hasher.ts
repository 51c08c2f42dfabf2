/**
 * The BLAKE3 of local files, computed on a thread of its own (cli/hash-worker.ts), so that
 * `ferry send` hashes a file on one core while it reads, seals and uploads it on the other.
 * One thread for the whole command, started on the first request; it holds the process
 * open only while a hash is pending.
 */
import { Worker } from 'node:worker_threads';
import { FerryError } from '../shared/errors.ts';
import { z } from '../shared/zod.ts';
import type { HashReply } from './hash-messages.ts';
import type { LocalFile } from './sources.ts';

/**
 * The hashing thread: hash-worker.mjs beside this module in the bundle cli/ferry.mjs makes,
 * or else (the command run without esbuild, and the tests) the TypeScript source, loaded
 * through tsx registered in the thread itself (a thread does not inherit the loader the
 * main thread registered, and `--import tsx` in its execArgv does not reach its entry).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./hash-worker.mjs', import.meta.url));
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./hash-worker.ts', import.meta.url).href);
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${entry}); });`, {
    eval: true,
  });
}

const hashReplySchema: z.ZodType<HashReply> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hashed'), id: z.number().int(), blake3: z.string().regex(/^[0-9a-f]{64}$/) }),
  z.object({ type: z.literal('failed'), id: z.number().int(), message: z.string() }),
]);

class HashThread {
  #worker: Worker | null = null;
  #next = 0;
  readonly #pending = new Map<number, { resolve(blake3: string): void; reject(error: unknown): void }>();

  hash(file: LocalFile): Promise<string> {
    const worker = this.#start();
    const id = this.#next++;
    const answer = new Promise<string>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    worker.ref();
    worker.postMessage({ id, path: file.path, size: file.size, name: file.name });
    return answer;
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = startWorker();
    worker.on('message', (message: unknown) => {
      const reply = hashReplySchema.parse(message);
      const waiting = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) worker.unref();
      if (reply.type === 'hashed') waiting?.resolve(reply.blake3);
      else waiting?.reject(new FerryError('CONTENT_CHANGED', reply.message));
    });
    // The thread itself failed (it could not start, or crashed): every pending hash fails,
    // and the next request starts a new one.
    const fail = (cause: unknown) => {
      this.#worker = null;
      for (const waiting of this.#pending.values()) {
        waiting.reject(new FerryError('INTERNAL', 'The hashing thread stopped.', { cause }));
      }
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.#worker === worker) fail(new Error(`exit code ${code}`));
    });
    this.#worker = worker;
    return worker;
  }
}

const thread = new HashThread();

/** The hex BLAKE3 of a file (CONTENT_CHANGED when it cannot be read or its size changed). */
export function hashFile(file: LocalFile): Promise<string> {
  return thread.hash(file);
}
