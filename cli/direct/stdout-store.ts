/**
 * `ferry receive --nearby -o -`: the FileStore (shared/p2p/verifying-sink.ts) that writes a
 * transfer's one file to a stream (stdout) as its records are verified, in order. Bytes
 * written cannot be taken back, so the file's last record is held back until its BLAKE3
 * matched (`finish`): a file that fails verification never reaches its full length on the
 * stream, and the exit status says why.
 */
import { once } from 'node:events';
import { FerryError } from '../../shared/errors.ts';
import type { FileStore, StoredFile } from '../../shared/p2p/verifying-sink.ts';
import { type FileCipher, plainRange, recordCount } from '../../shared/records.ts';

export class StdoutStore implements FileStore {
  readonly #out: NodeJS.WritableStream;
  #files = 0;

  constructor(out: NodeJS.WritableStream) {
    this.#out = out;
  }

  async create(_file: number, cipher: FileCipher): Promise<StoredFile> {
    // One stream holds one file: a second would make the bytes of two files one.
    if (this.#files++ > 0) throw new FerryError('BAD_REQUEST', 'Only one file can be written to stdout.');
    const lastAt = plainRange(cipher, recordCount(cipher) - 1)[0];
    let written = 0;
    let held: Uint8Array | null = null;
    return {
      write: async (bytes, at) => {
        // VerifyingSink writes each record once, in order: anything else is a bug here.
        if (at !== written)
          throw new FerryError('INTERNAL', `${cipher.name}: byte ${at} came where ${written} was due.`);
        written += bytes.length;
        if (at === lastAt) held = bytes;
        else await this.#write(bytes);
      },
      finish: async () => {
        if (held) await this.#write(held);
        held = null;
      },
      discard: async () => {
        held = null;
      },
    };
  }

  async #write(bytes: Uint8Array): Promise<void> {
    if (!this.#out.write(bytes)) await once(this.#out, 'drain');
  }
}
