/**
 * Runs the FileStore conformance suite (shared/p2p/file-store.conformance.ts) over the app's
 * OPFS store (client/lib/p2p/opfs-store.ts) in a dedicated worker, where sync access handles
 * exist. Bundled by esbuild for e2e/opfs-store.spec.ts; answers the list of failed cases.
 * Each case gets a folder of its own under CHECK_DIR, which is removed before and after.
 */

import { OpfsFileStore } from '../../client/lib/p2p/opfs-store.ts';
import {
  FILE_STORE_CASES,
  FULL_STORE_CASE,
  runStoreCases,
  type StoreSubject,
} from '../../shared/p2p/file-store.conformance.ts';

const CHECK_DIR = 'ferry-store-check';
const scope = self as unknown as DedicatedWorkerGlobalScope;

async function entries(dir: FileSystemDirectoryHandle): Promise<string[]> {
  const names: string[] = [];
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
  return names;
}

async function removeCheckDir(): Promise<void> {
  const root = await navigator.storage.getDirectory();
  await root.removeEntry(CHECK_DIR, { recursive: true }).catch(() => {});
}

scope.onmessage = async (message: MessageEvent<unknown>) => {
  await removeCheckDir();
  const root = await navigator.storage.getDirectory();
  const top = await root.getDirectoryHandle(CHECK_DIR, { create: true });
  let made = 0;
  const subject = async (): Promise<StoreSubject> => {
    const dir = await top.getDirectoryHandle(`case-${made++}`, { create: true });
    return {
      store: new OpfsFileStore(
        async () => dir,
        (file) => `transfer-${file}`,
      ),
      read: async (file) => {
        try {
          const stored = await (await dir.getFileHandle(`transfer-${file}`)).getFile();
          return new Uint8Array(await stored.arrayBuffer());
        } catch {
          return null;
        }
      },
      count: async () => (await entries(dir)).length,
    };
  };
  const cases = message.data === 'full' ? [FULL_STORE_CASE] : FILE_STORE_CASES;
  const failures = await runStoreCases(cases, subject);
  await removeCheckDir();
  scope.postMessage(failures);
};
