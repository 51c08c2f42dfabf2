/**
 * The ferry command's FileStore for the engine's VerifyingSink (shared/p2p/verifying-sink.ts):
 * each file is written at its place in `<target>.ferry-part` and renamed to its target only
 * once every record was verified and its BLAKE3 matched; a file that will not be whole is
 * deleted, part file included. A full disk is STORAGE_FULL.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../../shared/errors.ts';
import type { FileStore, StoredFile } from '../../shared/p2p/verifying-sink.ts';
import type { FileCipher } from '../../shared/records.ts';
import { PART_SUFFIX } from '../receive.ts';

export class PartFileStore implements FileStore {
  readonly #targets: readonly string[];

  /** `targets[i]`: where file i lands once verified. */
  constructor(targets: readonly string[]) {
    this.#targets = targets;
  }

  async create(file: number, cipher: FileCipher): Promise<StoredFile> {
    const target = this.#targets[file];
    if (!target) throw new FerryError('INVALID_MESSAGE', `No place for file ${file}.`);
    const part = `${target}${PART_SUFFIX}`;
    await mkdir(path.dirname(part), { recursive: true });
    const handle = await open(part, 'w');
    return {
      write: async (bytes, at) => {
        try {
          await handle.write(bytes, 0, bytes.length, at);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          throw new FerryError('STORAGE_FULL', `The disk is full: ${cipher.name} does not fit.`, { cause: error });
        }
      },
      finish: async () => {
        await handle.sync();
        await handle.close();
        await rename(part, target);
      },
      discard: async () => {
        await handle.close().catch(() => {});
        await rm(part, { force: true });
      },
    };
  }
}
