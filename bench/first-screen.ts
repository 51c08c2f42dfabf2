/**
 * `npm run bench:first-screen`: the JavaScript a newcomer's browser fetches before Ferry's
 * start screen is usable, for a baseline commit and for the app under test, built and
 * served the same way in the same run; printed as bytes (raw, gzip -9, brotli) and a ratio.
 *
 * Each side: the app is built from a `git archive` snapshot (bench/lib/source.ts), served by
 * the real Ferry server (bench/serve.ts) on loopback, and opened in a fresh Chromium
 * context at 1280×800 and at 390×844. Counted: every script response the page and its
 * dedicated workers load from the first request until the start screen shows its
 * heading and the network has been idle for 1 s (what a person waits for,
 * modules loaded on demand later are not). Service workers are blocked in these contexts:
 * the app's worker precaches every asset in the background once the page is shown, which
 * delays nothing a person waits for (and on a second visit everything comes from it).
 *
 * Environment: BENCH_BASE (baseline revision, default 26b44b6: main before the
 * first-screen work, where issue 10 measured 838 KB / 262 KB gzipped), BENCH_SRC (`head`,
 * default, `worktree`, or a revision: the side under test), CHROMIUM_PATH.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { launch } from './lib/browser.ts';
import { onCleanUp, runMain } from './lib/cleanup.ts';
import { BenchServer } from './lib/server.ts';
import { buildApp, type SourceKind, sourceKind, sourceTree } from './lib/source.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BASE: SourceKind = { revision: process.env.BENCH_BASE ?? '26b44b6' };
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const SETTLE_MS = 1000;

interface Script {
  url: string;
  raw: number;
  gzip: number;
  brotli: number;
}

function sizes(url: string, body: Buffer): Script {
  return {
    url,
    raw: body.length,
    gzip: gzipSync(body, { level: 9 }).length,
    brotli: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

function total(scripts: readonly Script[], key: 'raw' | 'gzip' | 'brotli'): number {
  return scripts.reduce((sum, script) => sum + script[key], 0);
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

/** Loads the start screen once in a fresh context and returns every script it fetched. */
async function loadStartScreen(
  browser: Browser,
  origin: string,
  viewport: (typeof VIEWPORTS)[number],
): Promise<Script[]> {
  const context = await browser.newContext({
    viewport: { width: viewport.width, height: viewport.height },
    serviceWorkers: 'block',
  });
  try {
    const page = await context.newPage();
    const pending: Promise<Script | undefined>[] = [];
    context.on('response', (response) => {
      const url = new URL(response.url());
      if (url.origin !== origin || !/\.m?js$/.test(url.pathname)) return;
      pending.push(
        response
          .body()
          .then((body) => sizes(url.pathname, body))
          .catch(() => undefined),
      );
    });
    await page.goto(`${origin}/`);
    await page.locator('h1').first().waitFor({ timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(SETTLE_MS);
    return (await Promise.all(pending)).filter((s): s is Script => s !== undefined);
  } finally {
    await context.close();
  }
}

async function measure(browser: Browser, kind: SourceKind, label: string) {
  const tmp = await mkdtemp(join(tmpdir(), 'ferry-bench-first-screen-'));
  onCleanUp(() => rm(tmp, { recursive: true, force: true }));
  const source = sourceTree(ROOT, tmp, kind, ['serve.ts']);
  const dist = join(tmp, 'app');
  await buildApp(source.root, dist);
  const data = join(tmp, 'data');
  const server = await BenchServer.start(source.root, dist, data);
  onCleanUp(() => server.stop());
  const loads = [];
  for (const viewport of VIEWPORTS)
    loads.push({ viewport: viewport.name, scripts: await loadStartScreen(browser, server.origin, viewport) });
  await server.stop();
  return { label: `${label} ${source.label}`, loads };
}

async function main(): Promise<void> {
  const browser = await launch();
  const base = await measure(browser, BASE, 'base');
  const head = await measure(browser, sourceKind(), 'app');
  console.log('\nFirst-screen JavaScript (start screen shown, network idle):');
  console.log('side                  view      files  raw        gzip -9    brotli');
  for (const side of [base, head]) {
    for (const load of side.loads) {
      console.log(
        [
          side.label.padEnd(21),
          load.viewport.padEnd(9),
          String(load.scripts.length).padStart(5),
          kb(total(load.scripts, 'raw')).padStart(10),
          kb(total(load.scripts, 'gzip')).padStart(10),
          kb(total(load.scripts, 'brotli')).padStart(10),
        ].join(' '),
      );
    }
  }
  for (const [i, viewport] of VIEWPORTS.entries()) {
    const ratio = total(head.loads[i]!.scripts, 'gzip') / total(base.loads[i]!.scripts, 'gzip');
    console.log(`ratio app/base, gzip, ${viewport.name}: ${ratio.toFixed(2)} (goal ≤ 0.50)`);
  }
  if (process.env.BENCH_VERBOSE) {
    for (const side of [base, head]) {
      console.log(`\n${side.label}, desktop:`);
      for (const s of side.loads[0]!.scripts) console.log(`  ${kb(s.gzip).padStart(10)}  ${s.url}`);
    }
  }
}

await runMain(main);
