/**
 * `npm run bench`: Ferry's benchmarks, each against a baseline measured in the same run.
 *
 *   upload    1 GiB through the real app (hash + encrypt + tus) vs fetch(PUT File) to the sink,
 *             twice: in a bare Chromium with no DevTools protocol attached (bench/send-page,
 *             the headline figure) and under Playwright (CDP, whose Network domain keeps and
 *             slows request bodies: not what a user's browser does)
 *   hash      the app's worker Hasher vs one hash-wasm blake3() over the same bytes in memory
 *   download  the recipient page saving the share through the service-worker stream
 *   memory    peak JS heap (pages + workers + service worker) and server RSS growth
 *
 * Environment: BENCH_MB (file size in MiB, default 1024), BENCH_HASH_MB (default
 * min(BENCH_MB, 256)), BENCH_RUNS (runs per side, default 2), CHROMIUM_PATH, and BENCH_SRC:
 * `head` (default) measures the committed app — a `git archive HEAD` snapshot of client/,
 * shared/, server/ and public/ in the temp dir, so half-made edits in a shared checkout
 * neither break nor skew the run — and `worktree` measures the files as they are now.
 * BENCH_BEFORE (a git revision, e.g. `main`) adds that revision's send to the no-CDP rounds
 * (fetch PUT, before, send), so a change is judged against the same baseline in one run.
 * BENCH_ONLY=bare runs the no-CDP upload alone (no hash, CDP upload or download).
 * BENCH_LINK_MBIT (e.g. 200) runs the whole bench over a loopback shaped to that rate
 * (bench/lib/shaped-link.ts; root only) instead of bare loopback, where both sides are CPU-bound.
 * Prints a table and writes bench/out/result-<time>.json and bench/out/latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import type { BenchWindow } from './hash-page/api.ts';
import { type BareRun, runBare } from './lib/bare.ts';
import { LAUNCH, launch, withoutSavePicker } from './lib/browser.ts';
import { onCleanUp, runMain } from './lib/cleanup.ts';
import { sendFileInput } from './lib/file-input.ts';
import { sha256File, writeRandomFile } from './lib/files.ts';
import { type HeapPeaks, HeapSampler } from './lib/heap.ts';
import { BenchServer, PeakSampler } from './lib/server.ts';
import { insideLink, linkLabel, linkMbit, rerunInLink } from './lib/shaped-link.ts';
import { buildApp, sourceKind, sourceTree } from './lib/source.ts';
import { serveStatic } from './lib/static.ts';
import { intEnv, MiB, mbps, median, mib, within } from './lib/stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench', 'out');

const SIZE_MB = intEnv('BENCH_MB', 1024);
const HASH_MB = intEnv('BENCH_HASH_MB', Math.min(SIZE_MB, 256));
const RUNS = intEnv('BENCH_RUNS', 2);
const SRC = sourceKind();
const BEFORE = process.env.BENCH_BEFORE ? sourceKind('BENCH_BEFORE') : undefined;
const ONLY_BARE = process.env.BENCH_ONLY === 'bare';
if (process.env.BENCH_ONLY && !ONLY_BARE) throw new Error(`BENCH_ONLY must be "bare", got "${process.env.BENCH_ONLY}"`);
const SIZE = SIZE_MB * MiB;
const HASH_SIZE = HASH_MB * MiB;
/** Generous limits: nothing here should run slower than 4 MB/s. */
const transferLimitMs = (bytes: number) => 60_000 + (bytes / 4e6) * 1000;
/** pssOverPut: the whole browser's peak PSS during a send, over that of a fetch(PUT) of the same file. */
const GOALS = { uploadRatio: 0.8, heapBytes: 256 * MiB, serverRssGrowth: 64 * MiB, pssOverPut: 256 * MiB };

async function closeBrowser(browser: Browser): Promise<void> {
  await browser.close();
}

function log(line: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

// ---------------------------------------------------------------- builds

async function buildHashPage(root: string, outDir: string): Promise<void> {
  await build({
    configFile: false,
    root: join(root, 'bench', 'hash-page'),
    base: './',
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false },
    worker: { format: 'es' },
  });
}

/** bench/send-page: the app's Picker and Sender driven by URL parameters, for a bare browser. */
async function buildSendPage(root: string, outDir: string): Promise<void> {
  await build({
    configFile: false,
    root: join(root, 'bench', 'send-page'),
    base: '/',
    logLevel: 'warn',
    define: { global: 'globalThis' },
    plugins: [svelte()],
    worker: { format: 'es' },
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false },
  });
}

// ---------------------------------------------------------------- hash

interface HashResult {
  bytes: number;
  oneShotMs: number[];
  hasherMs: number[];
  digest: string;
}

async function benchHash(file: string): Promise<HashResult> {
  const site = await serveStatic(join(OUT, 'hash-page'));
  onCleanUp(site.close);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(`${site.origin}/`);
    await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: 30_000 });
    await page.locator('#file').setInputFiles(file);
    const result: HashResult = { bytes: HASH_SIZE, oneShotMs: [], hasherMs: [], digest: '' };
    const digests = new Set<string>();
    const limit = transferLimitMs(HASH_SIZE);
    for (let i = 0; i < RUNS; i++) {
      const one = await within(
        page.evaluate(() => (window as unknown as BenchWindow).ferryBench.oneShot()),
        limit,
        'blake3 one-shot',
      );
      log(`hash: blake3() one-shot ${mbps(HASH_SIZE, one.ms).toFixed(0)} MB/s`);
      const inc = await within(
        page.evaluate(() => (window as unknown as BenchWindow).ferryBench.hasher()),
        limit,
        'Hasher',
      );
      log(`hash: Hasher (worker)    ${mbps(HASH_SIZE, inc.ms).toFixed(0)} MB/s`);
      result.oneShotMs.push(one.ms);
      result.hasherMs.push(inc.ms);
      digests.add(one.digest).add(inc.digest);
    }
    if (digests.size !== 1) throw new Error(`hash: digests differ: ${[...digests].join(' ')}`);
    result.digest = [...digests][0]!;
    return result;
  } finally {
    await closeBrowser(browser);
    await site.close();
  }
}

// ---------------------------------------------------------------- upload

async function sinkUpload(server: BenchServer, file: string): Promise<{ ms: number; heap: HeapPeaks }> {
  const origin = server.origin;
  const browser = await launch();
  const sampler = await HeapSampler.start(browser, [server.pid]);
  try {
    const page = await browser.newPage();
    // A page of the app's origin without the app: the JSON of /health.
    await page.goto(`${origin}/health`);
    await page.evaluate(() => {
      const input = document.createElement('input');
      input.type = 'file';
      input.id = 'bench-file';
      document.body.append(input);
    });
    await page.locator('#bench-file').setInputFiles(file);
    const t0 = performance.now();
    const answer = await within(
      page.evaluate(async () => {
        const picked = (document.getElementById('bench-file') as HTMLInputElement).files?.[0];
        if (!picked) throw new Error('no file');
        const res = await fetch('/api/bench/sink', { method: 'PUT', body: picked });
        return { status: res.status, body: (await res.json()) as { bytes?: number } };
      }),
      transferLimitMs(SIZE),
      'fetch(PUT) to the sink',
    );
    const ms = performance.now() - t0;
    if (answer.status !== 200 || answer.body.bytes !== SIZE) {
      throw new Error(`sink answered ${answer.status} ${JSON.stringify(answer.body)}, expected ${SIZE} bytes`);
    }
    return { ms, heap: await sampler.stop() };
  } finally {
    await sampler.stop();
    await closeBrowser(browser);
  }
}

/** Throws with the page's alert text when the app shows an error before `locator` appears. */
async function appearsOrAlert(page: Page, what: string, locator: ReturnType<Page['locator']>, ms: number) {
  const alert = page.getByRole('alert').first();
  const winner = await within(
    Promise.race([
      // The loser keeps waiting until the page closes: its rejection is expected and ignored.
      locator
        .waitFor({ state: 'visible', timeout: ms })
        .then(() => 'ok' as const)
        .catch(() => 'timeout' as const),
      alert
        .waitFor({ state: 'visible', timeout: ms })
        .then(() => 'alert' as const)
        .catch(() => new Promise<never>(() => undefined)),
    ]),
    ms + 5000,
    what,
  );
  if (winner === 'alert') throw new Error(`${what}: the app shows an error: ${await alert.textContent()}`);
  if (winner === 'timeout') throw new Error(`${what}: not within ${Math.round(ms / 1000)} s`);
}

interface FerryUpload {
  ms: number;
  link: string;
  heap: HeapPeaks;
}

async function ferryUpload(server: BenchServer, file: string, consoleLines: string[]): Promise<FerryUpload> {
  const browser = await launch();
  const sampler = await HeapSampler.start(browser, [server.pid]);
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    page.on('console', (m) => consoleLines.push(`[sender] ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`[sender] pageerror: ${e.message}`));
    await page.goto(`${server.origin}/`);
    const input = sendFileInput(page);
    await input.waitFor({ state: 'attached', timeout: 30_000 });
    await input.setInputFiles(file);
    const send = page.getByRole('button', { name: 'Send', exact: true });
    await within(
      (async () => {
        while (!(await send.isEnabled())) await page.waitForTimeout(50);
      })(),
      30_000,
      'Send becomes enabled',
    );
    const t0 = performance.now();
    await send.click();
    const link = page.getByLabel('Share link').first();
    await appearsOrAlert(page, 'the Share link appears', link, transferLimitMs(SIZE));
    // The link shows as soon as the share exists, while the upload runs; "Send more" once it is done.
    const done = page.getByRole('button', { name: 'Send more' });
    await appearsOrAlert(page, 'the upload finishes ("Send more")', done, transferLimitMs(SIZE));
    const ms = performance.now() - t0;
    const value = await link.inputValue();
    if (!/\/s\/[A-Za-z0-9_-]{16}#[A-Za-z0-9_-]+$/.test(value)) throw new Error(`unexpected share link "${value}"`);
    return { ms, link: value, heap: await sampler.stop() };
  } finally {
    await sampler.stop();
    await closeBrowser(browser);
  }
}

// ---------------------------------------------------------------- download

interface FerryDownload {
  ms: number;
  verifiedMs: number;
  heap: HeapPeaks;
}

async function ferryDownload(
  server: BenchServer,
  link: string,
  sourceSha: string,
  consoleLines: string[],
): Promise<FerryDownload> {
  const browser = await launch();
  const sampler = await HeapSampler.start(browser, [server.pid]);
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    await context.addInitScript(withoutSavePicker);
    const page = await context.newPage();
    page.on('console', (m) => consoleLines.push(`[recipient] ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`[recipient] pageerror: ${e.message}`));
    await page.goto(link);
    const button = page.getByRole('button', { name: /^Download / }).first();
    await appearsOrAlert(page, 'the Download button appears', button, 60_000);
    const limit = transferLimitMs(SIZE);
    const t0 = performance.now();
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: limit }), button.click()]);
    const path = await within(download.path(), limit, 'the download finishes');
    const ms = performance.now() - t0;
    const failure = await download.failure();
    if (failure !== null) throw new Error(`the download failed: ${failure}`);
    await appearsOrAlert(page, '"Verified" appears', page.getByText('Verified').first(), 60_000);
    const verifiedMs = performance.now() - t0;
    const heap = await sampler.stop();
    const { size } = await stat(path);
    const sha = await sha256File(path);
    await download.delete();
    if (size !== SIZE || sha !== sourceSha)
      throw new Error(`downloaded ${size} bytes, sha256 ${sha}: not the file sent`);
    return { ms, verifiedMs, heap };
  } finally {
    await sampler.stop();
    await closeBrowser(browser);
  }
}

// ---------------------------------------------------------------- report

const maxOf = (peaks: readonly HeapPeaks[], key: 'treePss' | 'total') =>
  peaks.length ? Math.max(...peaks.map((p) => p[key])) : Number.NaN;
const pad = (s: string, n: number) => s.padEnd(n);
const rpad = (s: string, n: number) => s.padStart(n);
const yes = (ok: boolean) => (ok ? 'yes' : 'NO');

/** CPU seconds per GiB of file moved, from CPU seconds for SIZE bytes. */
const perGiB = (seconds: number) => (seconds * 1024 * MiB) / SIZE;

/** A no-CDP run's CPU per GiB: browser (by process kind) and server. */
function cpuLine(run: BareRun): string {
  if (!run.cpu) return 'CPU not sampled';
  const kinds = Object.entries(run.cpu.byKind)
    .filter(([, seconds]) => perGiB(seconds) >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, seconds]) => `${kind} ${perGiB(seconds).toFixed(1)}`)
    .join(', ');
  return `CPU-s per GiB: browser ${perGiB(run.cpu.browser).toFixed(1)} (${kinds}), server ${perGiB(run.cpu.server).toFixed(1)}`;
}

/** Median CPU-s per GiB of the no-CDP runs: browser + server, and each. */
function cpuMedians(runs: readonly BareRun[]): { total: number; browser: number; server: number } {
  const sampled = runs.flatMap((r) => (r.cpu ? [r.cpu] : []));
  if (!sampled.length) return { total: Number.NaN, browser: Number.NaN, server: Number.NaN };
  return {
    total: perGiB(median(sampled.map((c) => c.browser + c.server))),
    browser: perGiB(median(sampled.map((c) => c.browser))),
    server: perGiB(median(sampled.map((c) => c.server))),
  };
}

// ---------------------------------------------------------------- CDP rounds

interface CdpRounds {
  idleRss: number;
  sinkMs: number[];
  sinkHeaps: HeapPeaks[];
  ferryMs: number[];
  senderHeaps: HeapPeaks[];
  uploadError?: string;
  downloadResult?: FerryDownload;
  downloadError?: string;
  uploadRssPeak: number;
  downloadRssPeak: number;
  consoleLines: string[];
  serverLog: string;
}

/** Uploads under Playwright (fetch PUT, then the app, RUNS times), then one download of the last link. */
async function cdpRounds(root: string, tmp: string, uploadFile: string, uploadSha: string): Promise<CdpRounds> {
  const server = await BenchServer.start(root, join(OUT, 'app'), join(tmp, 'data'));
  onCleanUp(() => server.stop());
  log(`server pid ${server.pid} at ${server.origin}`);
  await fetch(`${server.origin}/health`);
  await new Promise((done) => setTimeout(done, 1000));
  const idleRss = server.rss();

  const consoleLines: string[] = [];
  const sinkMs: number[] = [];
  const sinkHeaps: HeapPeaks[] = [];
  const ferryMs: number[] = [];
  const senderHeaps: HeapPeaks[] = [];
  let link = '';
  let uploadError: string | undefined;
  let downloadResult: FerryDownload | undefined;
  let downloadError: string | undefined;
  const uploadRss = new PeakSampler(() => server.rss());
  try {
    for (let i = 0; i < RUNS; i++) {
      const sinkRun = await sinkUpload(server, uploadFile);
      sinkMs.push(sinkRun.ms);
      sinkHeaps.push(sinkRun.heap);
      log(`upload: fetch(PUT) sink  ${mbps(SIZE, sinkRun.ms).toFixed(0)} MB/s`);
      const run = await ferryUpload(server, uploadFile, consoleLines);
      ferryMs.push(run.ms);
      senderHeaps.push(run.heap);
      link = run.link;
      log(`upload: Ferry send       ${mbps(SIZE, run.ms).toFixed(0)} MB/s (sender heap peak ${mib(run.heap.total)})`);
    }
  } catch (error) {
    uploadError = String(error instanceof Error ? error.message : error);
    log(`upload FAILED: ${uploadError}`);
  }
  const uploadRssPeak = uploadRss.stop();

  const downloadRss = new PeakSampler(() => server.rss());
  if (link) {
    try {
      downloadResult = await ferryDownload(server, link, uploadSha, consoleLines);
      log(
        `download: ${mbps(SIZE, downloadResult.ms).toFixed(0)} MB/s (recipient heap peak ${mib(downloadResult.heap.total)})`,
      );
    } catch (error) {
      downloadError = String(error instanceof Error ? error.message : error);
      log(`download FAILED: ${downloadError}`);
    }
  } else {
    downloadError = 'no share link (the upload did not complete)';
  }
  const downloadRssPeak = downloadRss.stop();
  await server.stop();
  return {
    idleRss,
    sinkMs,
    sinkHeaps,
    ferryMs,
    senderHeaps,
    uploadError,
    downloadResult,
    downloadError,
    uploadRssPeak,
    downloadRssPeak,
    consoleLines,
    serverLog: server.log,
  };
}

async function main(): Promise<void> {
  const started = new Date();
  mkdirSync(OUT, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'ferry-bench-'));
  onCleanUp(() => rm(tmp, { recursive: true, force: true }));
  const source = sourceTree(ROOT, tmp, SRC, ['serve.ts', 'hash-page', 'send-page']);
  // The checkout's send page drives the older app too (same Picker and Sender interface).
  const before = BEFORE && sourceTree(ROOT, tmp, BEFORE, ['serve.ts', 'send-page'], 'src-before');
  log(
    `source ${source.label}${before ? ` (before: ${before.label})` : ''}, size ${SIZE_MB} MiB, hash ${HASH_MB} MiB, ${RUNS} runs per side; temp ${tmp}`,
  );

  log(`building ${ONLY_BARE ? 'the send page' : 'the app, the hash page and the send page'} (bench/out)…`);
  if (!ONLY_BARE) {
    await buildApp(source.root, join(OUT, 'app'));
    await buildHashPage(source.root, join(OUT, 'hash-page'));
  }
  await buildSendPage(source.root, join(OUT, 'send-page'));
  if (before) await buildSendPage(before.root, join(OUT, 'send-page-before'));

  const uploadFile = join(tmp, `ferry-bench-${SIZE_MB}MiB.bin`);
  const hashFile = join(tmp, `ferry-hash-${HASH_MB}MiB.bin`);
  let uploadSha = '';
  let hash: HashResult | undefined;
  if (!ONLY_BARE) {
    log('writing test files…');
    uploadSha = await writeRandomFile(uploadFile, SIZE, 0x5eed);
    await writeRandomFile(hashFile, HASH_SIZE, 0xb1a3);
    hash = await benchHash(hashFile);
    await rm(hashFile, { force: true });
  }

  // No CDP: a bare Chromium opens the send page (served by its own Ferry server) and reports
  // by navigating to a loopback URL; the PSS of its process tree is sampled meanwhile.
  // With BENCH_BEFORE, the older revision's send page has a server of its own tree.
  const bare: { put: BareRun[]; before: BareRun[]; send: BareRun[]; error?: string } = {
    put: [],
    before: [],
    send: [],
  };
  const bareServer = await BenchServer.start(source.root, join(OUT, 'send-page'), join(tmp, 'bare-data'));
  onCleanUp(() => bareServer.stop());
  const beforeServer =
    before && (await BenchServer.start(before.root, join(OUT, 'send-page-before'), join(tmp, 'bare-data-before')));
  if (beforeServer) onCleanUp(() => beforeServer.stop());
  const modes = beforeServer ? (['put', 'before', 'send'] as const) : (['put', 'send'] as const);
  const label = { put: 'fetch(PUT) sink', before: 'before send    ', send: 'Ferry send     ' };
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const mode of modes) {
        const server = mode === 'before' && beforeServer ? beforeServer : bareServer;
        const url = `${server.origin}/?mode=${mode === 'put' ? 'put' : 'send'}&mb=${SIZE_MB}&linger=2000`;
        const run = await runBare(LAUNCH.executablePath, url, transferLimitMs(SIZE), [], server.pid);
        if (!run.ok) throw new Error(`no-CDP ${mode}: ${run.error}`);
        bare[mode].push(run);
        log(
          `upload, no CDP: ${label[mode]} ${mbps(SIZE, run.ms).toFixed(0)} MB/s (browser PSS peak ${mib(run.peakPss)}; ${cpuLine(run)})`,
        );
      }
    }
  } catch (error) {
    bare.error = String(error instanceof Error ? error.message : error);
    log(`no-CDP upload FAILED: ${bare.error}`);
  }
  await bareServer.stop();
  await beforeServer?.stop();

  const skipped: CdpRounds = {
    idleRss: Number.NaN,
    sinkMs: [],
    sinkHeaps: [],
    ferryMs: [],
    senderHeaps: [],
    uploadRssPeak: Number.NaN,
    downloadRssPeak: Number.NaN,
    consoleLines: [],
    serverLog: '',
  };
  const cdp = ONLY_BARE ? skipped : await cdpRounds(source.root, tmp, uploadFile, uploadSha);
  const { idleRss, sinkMs, sinkHeaps, ferryMs, senderHeaps, uploadError, downloadResult, downloadError } = cdp;
  const { uploadRssPeak, downloadRssPeak, consoleLines } = cdp;

  // ---- table
  const hashOne = hash ? mbps(HASH_SIZE, median(hash.oneShotMs)) : Number.NaN;
  const hashInc = hash ? mbps(HASH_SIZE, median(hash.hasherMs)) : Number.NaN;
  const sink = sinkMs.length ? mbps(SIZE, median(sinkMs)) : Number.NaN;
  const ferry = ferryMs.length ? mbps(SIZE, median(ferryMs)) : Number.NaN;
  const uploadRatio = ferry / sink;
  const bareSink = bare.put.length ? mbps(SIZE, median(bare.put.map((r) => r.ms))) : Number.NaN;
  const bareMBps = (runs: BareRun[]) => (runs.length ? mbps(SIZE, median(runs.map((r) => r.ms))) : Number.NaN);
  const bareFerry = bareMBps(bare.send);
  const bareRatio = bareFerry / bareSink;
  const bareBefore = bareMBps(bare.before);
  const barePss = (runs: BareRun[]) => (runs.length ? Math.max(...runs.map((r) => r.peakPss)) : Number.NaN);
  const pssOverPut = barePss(bare.send) - barePss(bare.put);
  const beforeOverPut = barePss(bare.before) - barePss(bare.put);
  const sinkCpu = cpuMedians(bare.put);
  const ferryCpu = cpuMedians(bare.send);
  const senderPeak = maxOf(senderHeaps, 'total');
  const recipientPeak = downloadResult?.heap.total ?? Number.NaN;
  const rssUp = uploadRssPeak - idleRss;
  const rssDown = downloadRssPeak - idleRss;
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');
  const lines = [
    '',
    `Ferry bench ${started.toISOString()} at ${source.label}${before ? ` vs before ${before.label}` : ''} (${SIZE_MB} MiB upload/download, ${HASH_MB} MiB hash, medians of ${RUNS}${linkLabel()})`,
    `${pad('throughput', 34)}${rpad('baseline MB/s', 14)}${rpad('ferry MB/s', 12)}${rpad('ratio', 8)}${rpad('goal', 8)}  ok`,
    `${pad('upload, no CDP: send vs fetch(PUT)', 34)}${rpad(f(bareSink), 14)}${rpad(f(bareFerry), 12)}${rpad(f(bareRatio, 2), 8)}${rpad('≥ 0.80', 8)}  ${yes(bareRatio >= GOALS.uploadRatio)}`,
    ...(before
      ? [
          `${pad(`  before (${before.label.slice(0, 9)}) vs fetch(PUT)`, 34)}${rpad(f(bareSink), 14)}${rpad(f(bareBefore), 12)}${rpad(f(bareBefore / bareSink, 2), 8)}${rpad('—', 8)}`,
        ]
      : []),
    `${pad('  CPU-s per GiB, browser + server', 34)}${rpad(f(sinkCpu.total, 1), 14)}${rpad(f(ferryCpu.total, 1), 12)}${rpad(f(sinkCpu.total / ferryCpu.total, 2), 8)}${rpad('—', 8)}`,
    `${pad('  of which the server', 34)}${rpad(f(sinkCpu.server, 1), 14)}${rpad(f(ferryCpu.server, 1), 12)}`,
    ...(ONLY_BARE
      ? []
      : [
          `${pad('upload under CDP (Playwright)', 34)}${rpad(f(sink), 14)}${rpad(f(ferry), 12)}${rpad(f(uploadRatio, 2), 8)}${rpad('—', 8)}`,
          `${pad('hash: Hasher vs blake3() one-shot', 34)}${rpad(f(hashOne), 14)}${rpad(f(hashInc), 12)}${rpad(f(hashInc / hashOne, 2), 8)}${rpad('—', 8)}`,
          `${pad('download: SW stream, to disk', 34)}${rpad('—', 14)}${rpad(downloadResult ? f(mbps(SIZE, downloadResult.ms)) : '—', 12)}`,
        ]),
    `${pad('memory (peak)', 34)}${rpad('MiB', 14)}${rpad('goal', 12)}  ok`,
    ...(ONLY_BARE
      ? []
      : [
          `${pad('sender JS heap, page+workers', 34)}${rpad(f(senderPeak / MiB, 1), 14)}${rpad('< 256', 12)}  ${yes(senderPeak < GOALS.heapBytes)}`,
          `${pad('recipient JS heap, page+wkrs+SW', 34)}${rpad(f(recipientPeak / MiB, 1), 14)}${rpad('< 256', 12)}  ${yes(recipientPeak < GOALS.heapBytes)}`,
          `${pad('server RSS growth, upload', 34)}${rpad(f(rssUp / MiB, 1), 14)}${rpad('< 64', 12)}  ${yes(rssUp < GOALS.serverRssGrowth)}`,
          `${pad('server RSS growth, download', 34)}${rpad(f(rssDown / MiB, 1), 14)}${rpad('< 64', 12)}  ${yes(rssDown < GOALS.serverRssGrowth)}`,
        ]),
    `${pad('browser PSS, no CDP: send / PUT', 34)}${rpad(`${f(barePss(bare.send) / MiB, 0)} / ${f(barePss(bare.put) / MiB, 0)}`, 14)}${rpad('—', 12)}`,
    `${pad('  send over PUT', 34)}${rpad(`+${f(pssOverPut / MiB, 0)}`, 14)}${rpad('≤ +256', 12)}  ${yes(pssOverPut <= GOALS.pssOverPut)}`,
    ...(before
      ? [
          `${pad(`  before (${before.label.slice(0, 9)}) over PUT`, 34)}${rpad(`+${f(beforeOverPut / MiB, 0)}`, 14)}${rpad('≤ +256', 12)}  ${yes(beforeOverPut <= GOALS.pssOverPut)}`,
        ]
      : []),
    ...(ONLY_BARE
      ? [`(No CDP: a bare headless Chromium on bench/send-page, source = one 16 MiB block repeated, in memory)`]
      : [
          `(server idle RSS ${f(idleRss / MiB, 1)} MiB. Whole browser, all processes, peak PSS under CDP (Playwright, Network domain`,
          ` on): sender ${f(maxOf(senderHeaps, 'treePss') / MiB, 0)} MiB vs ${f(maxOf(sinkHeaps, 'treePss') / MiB, 0)} MiB for fetch(PUT); recipient ${f((downloadResult?.heap.treePss ?? Number.NaN) / MiB, 0)} MiB.`,
          ` No CDP: a bare headless Chromium on bench/send-page, source = one 16 MiB block repeated, in memory)`,
        ]),
  ];
  if (bare.error) lines.push(`no-CDP upload error: ${bare.error}`);
  if (uploadError) lines.push(`upload error: ${uploadError}`);
  if (downloadError) lines.push(`download error: ${downloadError}`);
  console.log(lines.join('\n'));

  const result = {
    started: started.toISOString(),
    source: source.label,
    sizeBytes: SIZE,
    hashBytes: HASH_SIZE,
    runs: RUNS,
    linkMbit: linkMbit(),
    goals: GOALS,
    uploadNoCdp: {
      measured: 'bare headless Chromium, no DevTools protocol attached (bench/lib/bare.ts)',
      sinkMs: bare.put.map((r) => r.ms),
      ferryMs: bare.send.map((r) => r.ms),
      sinkMBps: bareSink,
      ferryMBps: bareFerry,
      ratio: bareRatio,
      cpuSecondsPerGiB: { sink: sinkCpu, ferry: ferryCpu },
      sinkRuns: bare.put,
      ferryRuns: bare.send,
      peakPssOverPutBytes: pssOverPut,
      before: before
        ? {
            source: before.label,
            MBps: bareBefore,
            ratio: bareBefore / bareSink,
            peakPssOverPutBytes: beforeOverPut,
            runs: bare.before,
          }
        : null,
      error: bare.error ?? null,
    },
    upload: {
      measured: 'Playwright (CDP attached, Network domain enabled)',
      sinkMs,
      ferryMs,
      sinkMBps: sink,
      ferryMBps: ferry,
      ratio: uploadRatio,
      error: uploadError ?? null,
    },
    hash: hash ? { ...hash, oneShotMBps: hashOne, hasherMBps: hashInc, ratio: hashInc / hashOne } : null,
    download: downloadResult
      ? {
          ms: downloadResult.ms,
          verifiedMs: downloadResult.verifiedMs,
          MBps: mbps(SIZE, downloadResult.ms),
          error: null,
        }
      : { error: downloadError ?? null },
    memory: {
      sinkHeaps,
      senderHeaps,
      recipientHeap: downloadResult?.heap ?? null,
      senderPeakBytes: senderPeak,
      recipientPeakBytes: recipientPeak,
      serverIdleRssBytes: idleRss,
      serverRssGrowthUploadBytes: rssUp,
      serverRssGrowthDownloadBytes: rssDown,
    },
    console: consoleLines.filter((l) => /error|warn/i.test(l)).slice(0, 50),
    serverLog: uploadError || downloadError ? cdp.serverLog.slice(-4000) : undefined,
  };
  const json = `${JSON.stringify(result, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(OUT, `result-${stamp}.json`), json);
  writeFileSync(join(OUT, 'latest.json'), json);
  log(`wrote bench/out/result-${stamp}.json`);
  if (uploadError || downloadError || bare.error) process.exitCode = 1;
}

if (insideLink()) await runMain(main);
else process.exitCode = await rerunInLink(linkMbit() ?? 0);
