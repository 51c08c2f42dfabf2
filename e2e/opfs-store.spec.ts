/**
 * The app's OPFS store (client/lib/p2p/opfs-store.ts) in Chromium, where it runs: the
 * FileStore conformance suite that the memory store and the command's PartFileStore pass
 * in Node (shared/p2p/file-store.conformance.ts: whole files identical at edge sizes, a
 * tampered record and a hash mismatch keep nothing of the failed file and keep the files
 * verified before it, a resume after a drop continues into the same file), run in a
 * dedicated worker through the engine's SenderSession → ReceiverSession → VerifyingSink.
 * Then the origin's quota is made smaller than a file (DevTools protocol
 * Storage.overrideQuotaForOrigin, as a full device would be) and the store must fail with
 * STORAGE_FULL and keep nothing.
 */
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { build } from 'esbuild';

const ORIGIN = 'http://localhost';

test('the OPFS store passes the FileStore conformance suite in a worker; a full quota is STORAGE_FULL', async ({
  page,
}) => {
  const entry = fileURLToPath(new URL('./support/opfs-store-worker.ts', import.meta.url));
  const bundle = await build({ entryPoints: [entry], bundle: true, format: 'esm', write: false, target: 'es2022' });
  const script = bundle.outputFiles[0]?.text ?? '';
  // Fulfilled by Playwright: localhost is a secure context, so OPFS and WebCrypto are there.
  await page.route(`${ORIGIN}/opfs-store`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>opfs store</title>' }),
  );
  await page.goto(`${ORIGIN}/opfs-store`);
  /** Runs the suite (`cases`) or the full-storage case (`full`) in a new worker. */
  const run = (which: 'cases' | 'full') =>
    page.evaluate(
      ([source, message]) =>
        new Promise<string[]>((resolve, reject) => {
          const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
          const worker = new Worker(url, { type: 'module' });
          worker.onmessage = (event: MessageEvent<string[]>) => {
            worker.terminate();
            resolve(event.data);
          };
          worker.onerror = (event) => reject(new Error(event.message));
          worker.postMessage(message);
        }),
      [script, which] as const,
    );

  expect(await run('cases')).toEqual([]);

  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: ORIGIN, quotaSize: 1024 * 1024 });
  expect(await run('full')).toEqual([]);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: ORIGIN });
});
