import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.ts';
import { FILE_STORE_CASES, FULL_STORE_CASE, type StoreSubject } from './file-store.conformance.ts';
import { MemoryStore } from './receiver-test-kit.ts';

/** The memory store of the engine's tests, seen as the conformance suite sees every store. */
async function memory(failWrites: Error | null = null): Promise<StoreSubject> {
  const store = new MemoryStore();
  store.failWrites = failWrites;
  return {
    store,
    read: async (file) => store.files.get(file) ?? null,
    count: async () => store.files.size + store.parts.size,
  };
}

describe('FileStore conformance: MemoryStore', () => {
  for (const c of FILE_STORE_CASES) it(c.name, () => c.run(() => memory()));
  it(FULL_STORE_CASE.name, () =>
    FULL_STORE_CASE.run(() => memory(new FerryError('STORAGE_FULL', 'This device has no room left for the file.'))),
  );
  it('a case that finds a difference throws saying what differed', async () => {
    const keepsNothing: StoreSubject = { ...(await memory()), read: async () => null };
    await expect(FILE_STORE_CASES[0]!.run(async () => keepsNothing)).rejects.toThrow('file 0 is not kept identical');
  });
});
