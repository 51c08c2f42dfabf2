/**
 * The record format's known-answer vectors (shared/record-vectors.ts) in Chromium: the same
 * sealer and opener the app bundles, built for the browser by esbuild and run on a secure
 * origin, must give the exact bytes the Node unit test checks.
 */
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { build } from 'esbuild';

test('the browser build seals and opens the known-answer vectors', async ({ page }) => {
  const entry = fileURLToPath(new URL('../shared/record-vectors.ts', import.meta.url));
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    write: false,
    target: 'es2022',
  });
  const script = bundle.outputFiles[0]?.text ?? '';
  // Fulfilled by Playwright: localhost is a secure context, so WebCrypto is there.
  await page.route('http://localhost/vectors', (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>vectors</title>' }),
  );
  await page.route('http://localhost/vectors.js', (route) =>
    route.fulfill({ contentType: 'text/javascript', body: script }),
  );
  await page.goto('http://localhost/vectors');
  const failures = await page.evaluate(async () => {
    const url = '/vectors.js';
    const module: { checkRecordVectors: () => Promise<string[]> } = await import(url);
    return module.checkRecordVectors();
  });
  expect(failures).toEqual([]);
});
