/**
 * `npm run bench:p2p`: Ferry's browser-to-browser transfer against two baselines measured
 * in the same run, between two contexts of one Chromium on loopback, in alternating rounds
 * (a, b, c, a, b, c, …; BENCH_RUNS rounds; medians):
 *
 *   (a) ferry     the real app through its UI: the sender picks a file of BENCH_MB MiB on
 *                 disk for the recipient's tile, confirms the code, the recipient clicks
 *                 Accept. Two figures from the same transfer, both from the click:
 *                 "verified" — every record decrypted, authenticated and written to OPFS
 *                 and the whole-file BLAKE3 matched (the file's "Saving…" appears: the
 *                 export starts), and "saved" — the export through the service-worker
 *                 stream to disk done too ("Received and verified."). The downloaded file's
 *                 SHA-256 is checked against the source after the clock stops.
 *   (b) raw       one plain RTCDataChannel (bench/p2p-page), the same number of bytes in
 *                 64 KiB messages with Ferry's PeerLink marks (bufferedAmountLowThreshold
 *                 at the low mark, pause above the high mark); the receiver counts.
 *   (c) pairdrop  PairDrop's scheme on the same kind of channel: 64,000-byte chunks and,
 *                 after every partition of 1,000,000 bytes, a stop until the receiver
 *                 acknowledges it.
 *
 * Peak JS heap (pages + workers + service worker, CDP Runtime.getHeapUsage every 200 ms,
 * bench/lib/heap.ts) of each person's context is sampled in every round of every kind, so the
 * sampling costs all three alike. Everything runs under Playwright (CDP attached); the
 * Network domain it enables does not touch data channels.
 *
 * Environment: BENCH_MB (MiB, default 1024), BENCH_RUNS (rounds, default 2), BENCH_SRC
 * (`head`, default: a snapshot of the committed app; `worktree`), CHROMIUM_PATH,
 * BENCH_KINDS (which of ferry,raw,pairdrop to run; default all), BENCH_RAW_KIB (the raw
 * channel's message size, default 64), BENCH_PROFILE=1 (the app
 * built unminified; every round adds CPU seconds per thread of each process, and Ferry's
 * rounds a V8 CPU profile of every page and worker: JavaScript self time per function,
 * bench/lib/threads.ts and bench/lib/profiler.ts; printed and in the JSON), and
 * BENCH_RTT_MS: a round trip without netem (this kernel lacks it; the probe's answer is
 * logged): every transfer goes relay-only through coturn behind a UDP relay that holds each
 * datagram RTT/4 (bench/lib/delay-relay.ts). Emulated, lossy under load: see the README.
 * Prints a table and writes bench/out/p2p-<time>.json and bench/out/p2p-latest.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { build } from 'vite';
import { Coturn } from '../e2e/support/coturn.ts';
import { browserWithProfile, treePss } from './lib/bare.ts';
import { LAUNCH, launch, withoutSavePicker } from './lib/browser.ts';
import { onCleanUp, runMain } from './lib/cleanup.ts';
import { cpuSince, descendants } from './lib/cpu.ts';
import { spawnDelayRelay } from './lib/delay-relay.ts';
import { sha256File, writeRandomFile } from './lib/files.ts';
import { type HeapPeaks, HeapSampler } from './lib/heap.ts';
import { Profiler, type TargetProfile } from './lib/profiler.ts';
import { BenchServer } from './lib/server.ts';
import { buildApp, sourceKind, sourceTree } from './lib/source.ts';
import { serveStatic } from './lib/static.ts';
import { intEnv, MiB, mbps, median, mib, sleep, within } from './lib/stats.ts';
import { type ThreadTime, threadsSince, threadTimes } from './lib/threads.ts';
import type { BaselineRun, Marks, P2pBenchWindow } from './p2p-page/api.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench', 'out');

const SIZE_MB = intEnv('BENCH_MB', 1024);
const RUNS = intEnv('BENCH_RUNS', 2);
const SRC = sourceKind();
const SIZE = SIZE_MB * MiB;
/** Emulated round trip (ms), 0 for plain loopback. */
const RTT_MS = process.env.BENCH_RTT_MS ? intEnv('BENCH_RTT_MS', 40) : 0;
/**
 * The raw channel's message size, BENCH_RAW_KIB (default 64, at most Chromium's
 * maxMessageSize of 256 KiB). Ferry's frames hold three 64 KiB records (196,676 bytes).
 */
const RAW_MESSAGE_BYTES = intEnv('BENCH_RAW_KIB', 64) * 1024;
if (RAW_MESSAGE_BYTES > 256 * 1024) throw new Error('BENCH_RAW_KIB must be at most 256 (the channel’s maxMessageSize)');
/** PairDrop's FileChunker: 64,000-byte chunks, an acknowledged partition per 1e6 bytes. */
const PAIRDROP_CHUNK_BYTES = 64_000;
const PAIRDROP_PARTITION_BYTES = 1_000_000;
const GOALS = { rawRatio: 0.9, pairdropRatioAt40ms: 3 };
/** Generous: even on a loaded 2-core machine nothing here should run slower than 2 MB/s. */
const LIMIT_MS = 120_000 + (SIZE / 2e6) * 1000;

type Kind = 'ferry' | 'raw' | 'pairdrop';
const ALL_KINDS: readonly Kind[] = ['ferry', 'raw', 'pairdrop'];
const KINDS = kindsFromEnv();
const PROFILE = process.env.BENCH_PROFILE === '1';
/**
 * BENCH_PERSISTENT=1 (Ferry's rounds only): each person gets a browser of their own with an
 * on-disk profile (`launchPersistentContext`), as people have, instead of an off-the-record
 * context of one browser (whose OPFS lives in memory); each browser's PSS is sampled.
 */
const PERSISTENT = process.env.BENCH_PERSISTENT === '1';

/** BENCH_KINDS: a comma-separated subset of ALL_KINDS, in their order. */
function kindsFromEnv(): readonly Kind[] {
  const text = process.env.BENCH_KINDS;
  if (!text) return ALL_KINDS;
  const wanted = text.split(',').map((k) => k.trim());
  const unknown = wanted.filter((k) => !ALL_KINDS.includes(k as Kind));
  if (unknown.length > 0) throw new Error(`BENCH_KINDS: unknown kinds ${unknown.join(', ')}`);
  return ALL_KINDS.filter((k) => wanted.includes(k));
}

/** Peak used JS heap of each person's context (pages + workers + SW), and the browser's PSS. */
interface Heaps {
  sender: number;
  recipient: number;
  treePss: number;
}

interface PssSpan {
  before: number;
  peak: number;
}

interface Round {
  kind: Kind;
  round: number;
  /** Accept (ferry) or first byte (baselines) until the recipient has verified / counted everything. */
  ms: number;
  /** ferry only: until the export to disk is done too. */
  savedMs?: number;
  /** Baselines: the selected candidate pair's round trip when the channel opened, ms. */
  rttMs?: number | null;
  /** CPU seconds of the browser's processes over the timed part (ferry: until saved). */
  cpuSeconds: number;
  /** The same per process kind (browser, renderer, gpu-process, NetworkService…). */
  cpuByKind: Record<string, number>;
  heaps: Heaps;
  /** BENCH_PERSISTENT: each person's browser PSS just before Accept and its peak until saved, bytes. */
  pss?: { sender: PssSpan; recipient: PssSpan };
  /** BENCH_PROFILE: CPU seconds per `<process>/<thread>` over the timed part. */
  threads?: Record<string, number>;
  /** BENCH_PROFILE, ferry: the same until the file was verified in OPFS (the export not begun). */
  threadsToVerified?: Record<string, number>;
  /** BENCH_PROFILE, ferry: JavaScript self time per function of each page and worker. */
  profiles?: TargetProfile[];
}

/** One browser (a context per person, as the e2e fixtures do), the app's server, the baseline page. */
interface Setup {
  server: BenchServer;
  pageOrigin: string;
  browser: Browser;
  file: string;
  sha: string;
  /** The RTCConfiguration the server's pages get (/api/ice), for the baseline pages too. */
  ice: RTCConfiguration;
  console: string[];
  /** The run's temp dir (BENCH_PERSISTENT profiles go there). */
  tmp: string;
}

function log(line: string): void {
  console.log(`[p2p ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

// ---------------------------------------------------------------- round trip

/**
 * 40 ms of round trip on loopback needs the netem qdisc. Tried in a throwaway network
 * namespace (`unshare --net`), never on the machine's own lo, which others use too.
 * Answers null when it works, else what failed.
 */
function netemFailure(rttMs: number): string | null {
  const script = `ip link set lo up && tc qdisc add dev lo root netem delay ${rttMs / 2}ms`;
  const probe = spawnSync('unshare', ['--net', '--', 'sh', '-c', script], { encoding: 'utf8' });
  if (probe.error) return `unshare could not run: ${probe.error.message}`;
  if (probe.status === 0) return null;
  return `\`unshare --net -- sh -c '${script}'\` exited ${probe.status}: ${probe.stderr.trim()}`;
}

// ---------------------------------------------------------------- builds

/** bench/p2p-page with the measured tree's PeerLink marks compiled in. */
async function buildBaselinePage(root: string, outDir: string): Promise<void> {
  await build({
    configFile: false,
    root: join(root, 'bench', 'p2p-page'),
    base: '/',
    logLevel: 'warn',
    define: { global: 'globalThis' },
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false },
  });
}

// ---------------------------------------------------------------- helpers

/** Page times (performance.now) of the recipient's moments, noted by `noteMoments`. */
interface Moments {
  accept?: number;
  saving?: number;
  done?: number;
}

/**
 * Recipient init script: notes when Accept is clicked and when "Saving…" (the file is
 * verified in OPFS and its export starts; it may show only for a moment) and "Received
 * and verified." first appear. A MutationObserver sees every DOM change, so a state too
 * short for Playwright's polling is not missed; the times come from the page's own clock.
 * (No named inner functions: tsx would wrap them in a helper the page does not have.)
 */
function noteMoments(): void {
  const moments: Moments = {};
  (window as unknown as { ferryMoments: Moments }).ferryMoments = moments;
  document.addEventListener(
    'click',
    (event) => {
      if (event.target instanceof HTMLButtonElement && event.target.textContent?.trim() === 'Accept')
        moments.accept = performance.now();
    },
    true,
  );
  new MutationObserver(() => {
    const text = document.body?.textContent ?? '';
    if (moments.saving === undefined && text.includes('Saving…')) {
      moments.saving = performance.now();
      // BENCH_PROFILE: the CPU used so far is the transfer's, what follows the export's.
      (window as unknown as { ferryBenchSaving?: () => void }).ferryBenchSaving?.();
    }
    if (moments.done === undefined && text.includes('Received and verified.')) moments.done = performance.now();
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

function record(page: Page, lines: string[], who: string): void {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') lines.push(`[${who}] ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => lines.push(`[${who}] pageerror: ${e.message}`));
}

/** Resolves when `locator` shows; throws with the text of an alert on one of `pages` if that comes first. */
async function appears(locator: Locator, pages: readonly Page[], what: string): Promise<void> {
  const alerts = pages.map((page) => {
    const alert = page.getByRole('alert').first();
    return alert.waitFor({ state: 'visible', timeout: LIMIT_MS }).then(
      async () => {
        throw new Error(`${what}: the app shows an error: ${await alert.textContent()}`);
      },
      // No alert until the page closed or the limit: nothing to report.
      () => new Promise<never>(() => undefined),
    );
  });
  await within(Promise.race([locator.waitFor({ state: 'visible', timeout: LIMIT_MS }), ...alerts]), LIMIT_MS, what);
}

/** The name the server gave this device, once the nearby section shows it. */
async function deviceName(page: Page): Promise<string> {
  const self = page
    .getByRole('region', { name: 'Nearby devices' })
    .getByText('This device appears as')
    .locator('strong');
  await self.waitFor({ state: 'visible', timeout: 30_000 });
  const name = (await self.textContent())?.trim();
  if (!name) throw new Error('the device has no name');
  return name;
}

/** CDP's id of the context `page` belongs to (what the heap sampler groups by). */
async function contextId(page: Page): Promise<string> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { targetInfo } = (await cdp.send('Target.getTargetInfo')) as { targetInfo: { browserContextId?: string } };
    if (!targetInfo.browserContextId) throw new Error('the page has no browser context id');
    return targetInfo.browserContextId;
  } finally {
    await cdp.detach();
  }
}

/** Samples the browser's JS heaps from now until `stop`, split into the sender's and the recipient's. */
async function startHeaps(setup: Setup, from: Page, to: Page): Promise<{ stop(): Promise<Heaps> }> {
  // A persistent context has no Browser to attach the sampler to: its PSS is sampled instead.
  if (PERSISTENT) return { stop: async () => ({ sender: 0, recipient: 0, treePss: 0 }) };
  const [sender, recipient] = await Promise.all([contextId(from), contextId(to)]);
  const sampler = await HeapSampler.start(setup.browser, [setup.server.pid]);
  const heaps = (peaks: HeapPeaks): Heaps => ({
    sender: peaks.byContext[sender] ?? 0,
    recipient: peaks.byContext[recipient] ?? 0,
    treePss: peaks.treePss,
  });
  return { stop: async () => heaps(await sampler.stop()) };
}

/** What a round's clock covers, beside time: CPU per process kind, and with BENCH_PROFILE per thread and per function. */
interface CpuUsed {
  cpuSeconds: number;
  cpuByKind: Record<string, number>;
  threads?: Record<string, number>;
  /** BENCH_PROFILE, ferry: the same until the file was verified in OPFS (the export not begun). */
  threadsToVerified?: Record<string, number>;
  profiles?: TargetProfile[];
}

/** BENCH_PROFILE: called when the recipient's "Saving…" appears (exposed to its page). */
let onSaving: (() => void) | null = null;

/** The sender's and the recipient's renderer: of exactly two, the sender's page opened first. */
function rendererLabels(exclude: readonly number[]): Map<number, string> {
  const renderers = [...descendants(exclude)].filter(([, p]) => p.kind === 'renderer').map(([pid]) => pid);
  renderers.sort((a, b) => a - b);
  const [sender, recipient] = renderers;
  return new Map(
    renderers.length === 2
      ? [
          [sender!, 'sender'],
          [recipient!, 'recipient'],
        ]
      : [],
  );
}

/**
 * Starts counting CPU (and with BENCH_PROFILE, per thread and the pages' and workers' CPU
 * profiles). The renderers are told apart by pid: the sender's page opens first, so the
 * lower of exactly two renderer pids is the sender's (otherwise they go by pid).
 */
async function startCpu(setup: Setup, from: Page, to: Page): Promise<{ stop(): Promise<CpuUsed> }> {
  const exclude = [setup.server.pid];
  const people = PROFILE
    ? new Map([
        [await contextId(from), 'sender'],
        [await contextId(to), 'recipient'],
      ])
    : null;
  const profiler = PROFILE ? await Profiler.start(setup.browser) : null;
  const threadsBefore: ReadonlyMap<string, ThreadTime> = PROFILE ? threadTimes(exclude) : new Map();
  const before = descendants(exclude);
  let toVerified: Record<string, number> | undefined;
  onSaving = () => {
    toVerified ??= threadsSince(threadsBefore, rendererLabels(exclude), exclude);
  };
  return {
    async stop() {
      onSaving = null;
      const used = cpuSince(before, exclude);
      const result: CpuUsed = { cpuSeconds: used.total, cpuByKind: used.byKind };
      if (!PROFILE) return result;
      result.threads = threadsSince(threadsBefore, rendererLabels(exclude), exclude);
      if (toVerified) result.threadsToVerified = toVerified;
      const profiles = ((await profiler?.stop()) ?? []).map((p) => ({
        ...p,
        context: people?.get(p.context) ?? p.context,
      }));
      if (profiles.length > 0) result.profiles = profiles;
      return result;
    },
  };
}

/** BENCH_PERSISTENT: a browser per person with an on-disk profile, each profile's dir kept on the context. */
const profiles = new WeakMap<BrowserContext, string>();

async function persistentContext(setup: Setup, name: string, options: { acceptDownloads?: boolean }) {
  const dir = await mkdtemp(join(setup.tmp, `${name}-profile-`));
  const context = await chromium.launchPersistentContext(dir, { ...LAUNCH, ...options });
  profiles.set(context, dir);
  return context;
}

async function withContexts<T>(setup: Setup, run: (from: Page, to: Page) => Promise<T>): Promise<T> {
  const fromContext = PERSISTENT ? await persistentContext(setup, 'sender', {}) : await setup.browser.newContext();
  const toContext = PERSISTENT
    ? await persistentContext(setup, 'recipient', { acceptDownloads: true })
    : await setup.browser.newContext({ acceptDownloads: true });
  try {
    await toContext.addInitScript(withoutSavePicker);
    await toContext.addInitScript(noteMoments);
    if (PROFILE) await toContext.exposeFunction('ferryBenchSaving', () => onSaving?.());
    const from = await fromContext.newPage();
    const to = await toContext.newPage();
    record(from, setup.console, 'sender');
    record(to, setup.console, 'recipient');
    return await run(from, to);
  } finally {
    await fromContext.close();
    await toContext.close();
    for (const context of [fromContext, toContext]) {
      const dir = profiles.get(context);
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }
}

/** BENCH_PERSISTENT: samples each person's browser PSS every 200 ms; `mark` sets the "before" figures. */
async function startPss(from: Page, to: Page): Promise<{ mark(): Promise<void>; stop(): Promise<Round['pss']> }> {
  const pids = await Promise.all(
    [from, to].map(async (page) => {
      const dir = profiles.get(page.context());
      const pid = dir && (await browserWithProfile(dir));
      if (!pid) throw new Error('the browser of a persistent profile was not found');
      return pid;
    }),
  );
  const spans: [PssSpan, PssSpan] = [
    { before: 0, peak: 0 },
    { before: 0, peak: 0 },
  ];
  let running = true;
  let marked = false;
  const sample = async () => (await Promise.all(pids.map((pid) => treePss(pid)))).map((t) => t.sum);
  const loop = (async () => {
    while (running) {
      const sums = await sample();
      if (marked) {
        for (const [i, sum] of sums.entries()) spans[i]!.peak = Math.max(spans[i]!.peak, sum);
      }
      await sleep(200);
    }
  })();
  return {
    async mark() {
      const sums = await sample();
      for (const [i, sum] of sums.entries()) Object.assign(spans[i]!, { before: sum, peak: sum });
      marked = true;
    },
    async stop() {
      running = false;
      await loop;
      return { sender: spans[0], recipient: spans[1] };
    },
  };
}

// ---------------------------------------------------------------- (a) Ferry

async function ferryRound(setup: Setup, round: number): Promise<Round> {
  return withContexts(setup, async (from, to) => {
    await from.goto(`${setup.server.origin}/`);
    await to.goto(`${setup.server.origin}/`);
    const heaps = await startHeaps(setup, from, to);
    try {
      const fromName = await deviceName(from);
      const toName = await deviceName(to);
      const tile = from.getByRole('button', { name: `Send to ${toName}`, exact: true });
      await within(
        (async () => {
          while (!(await tile.isEnabled())) await from.waitForTimeout(50);
        })(),
        30_000,
        'the recipient’s tile',
      );
      await from.getByLabel(`Files for ${toName}`).setInputFiles(setup.file);
      // The sender hashes the whole file before the code can be confirmed.
      await appears(from.getByRole('button', { name: 'Codes match' }), [from], '“Codes match”');
      const code = (await from.getByLabel(`Verification code with ${toName}`).textContent())?.trim() ?? '';
      await from.getByRole('button', { name: 'Codes match' }).click();

      const offer = to.getByRole('dialog', { name: `Files from ${fromName}` });
      await appears(offer.getByRole('button', { name: 'Accept' }), [from, to], 'the offer');
      const theirs = (await to.getByLabel(`Verification code from ${fromName}`).textContent())?.trim() ?? '';
      if (!/^\d{6}$/.test(code) || theirs !== code) throw new Error(`codes differ: "${code}" and "${theirs}"`);

      const download = to.waitForEvent('download', { timeout: LIMIT_MS });
      download.catch(() => undefined);
      const pss = PERSISTENT ? await startPss(from, to) : undefined;
      await pss?.mark();
      const cpu = await startCpu(setup, from, to);
      await offer.getByRole('button', { name: 'Accept' }).click();
      await appears(offer.getByText('Received and verified.', { exact: true }), [from, to], 'the file saved');
      const cpuUsed = await cpu.stop();
      const pssSpans = await pss?.stop();
      const heap = await heaps.stop();
      const moments = await to.evaluate(() => (window as unknown as { ferryMoments: Moments }).ferryMoments);
      const { accept, saving, done } = moments;
      if (accept === undefined || saving === undefined || done === undefined)
        throw new Error(`the recipient's moments are incomplete: ${JSON.stringify(moments)}`);
      const result: Round = {
        kind: 'ferry',
        round,
        ms: saving - accept,
        savedMs: done - accept,
        ...cpuUsed,
        heaps: heap,
        ...(pssSpans && { pss: pssSpans }),
      };
      const saved = await download;
      const path = await within(saved.path(), 60_000, 'the download file');
      const sha = await sha256File(path);
      await saved.delete();
      if (sha !== setup.sha) throw new Error(`the recipient saved sha256 ${sha}, not the file sent`);
      return result;
    } catch (error) {
      // What each screen showed, for the reader of the failure.
      await from.screenshot({ path: join(OUT, 'p2p-failed-sender.png'), fullPage: true }).catch(() => undefined);
      await to.screenshot({ path: join(OUT, 'p2p-failed-recipient.png'), fullPage: true }).catch(() => undefined);
      throw error;
    } finally {
      await heaps.stop();
    }
  });
}

// ---------------------------------------------------------------- (b), (c) baselines

async function openBaselinePage(page: Page, origin: string): Promise<Marks> {
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: 30_000 });
  return page.evaluate(() => (window as unknown as P2pBenchWindow).p2pMarks);
}

async function baselineRound(setup: Setup, kind: 'raw' | 'pairdrop', round: number): Promise<Round> {
  return withContexts(setup, async (from, to) => {
    const marks = await openBaselinePage(from, setup.pageOrigin);
    await openBaselinePage(to, setup.pageOrigin);
    const heaps = await startHeaps(setup, from, to);
    try {
      const offer = await from.evaluate((c) => (window as unknown as P2pBenchWindow).p2pBench.offer(c), setup.ice);
      const answer = await to.evaluate(([o, c]) => (window as unknown as P2pBenchWindow).p2pBench.answer(o, c), [
        offer,
        setup.ice,
      ] as const);
      const rttMs = await from.evaluate((a) => (window as unknown as P2pBenchWindow).p2pBench.accept(a), answer);
      const cpu = await startCpu(setup, from, to);
      const sending =
        kind === 'raw'
          ? from.evaluate(
              ([total, bytes, low, high]) =>
                (window as unknown as P2pBenchWindow).p2pBench.sendFlow(total, bytes, low, high),
              [SIZE, RAW_MESSAGE_BYTES, marks.low, marks.high] as const,
            )
          : from.evaluate(
              ([total, chunk, partition]) =>
                (window as unknown as P2pBenchWindow).p2pBench.sendStopAndWait(total, chunk, partition),
              [SIZE, PAIRDROP_CHUNK_BYTES, PAIRDROP_PARTITION_BYTES] as const,
            );
      const run: BaselineRun = await within(sending, LIMIT_MS, `${kind} channel`);
      const cpuUsed = await cpu.stop();
      if (run.bytes !== SIZE) throw new Error(`${kind}: the receiver counted ${run.bytes} bytes of ${SIZE}`);
      const heap = await heaps.stop();
      return { kind, round, ms: run.ms, rttMs, ...cpuUsed, heaps: heap };
    } finally {
      await heaps.stop();
      await from.evaluate(() => (window as unknown as P2pBenchWindow).p2pBench.close()).catch(() => undefined);
      await to.evaluate(() => (window as unknown as P2pBenchWindow).p2pBench.close()).catch(() => undefined);
    }
  });
}

// ---------------------------------------------------------------- report

const LABELS: Record<Kind | 'saved', string> = {
  ferry: '(a) Ferry, Accept → verified in OPFS (export not included)',
  saved: '(a′) Ferry, Accept → saved to disk (export through the SW stream included)',
  raw: `(b) raw RTCDataChannel, ${RAW_MESSAGE_BYTES / 1024} KiB messages, same marks`,
  pairdrop: '(c) PairDrop scheme, 64,000 B chunks, stop and wait per 1,000,000 B',
};

function report(rounds: readonly Round[], marks: Marks, label: string) {
  const rate = (ms: number) => mbps(SIZE, ms);
  const of = (kind: Kind) => rounds.filter((r) => r.kind === kind);
  const figures = {
    ferry: of('ferry').map((r) => rate(r.ms)),
    saved: of('ferry').map((r) => rate(r.savedMs ?? Number.NaN)),
    raw: of('raw').map((r) => rate(r.ms)),
    pairdrop: of('pairdrop').map((r) => rate(r.ms)),
  };
  const medians = {
    ferry: median(figures.ferry),
    saved: median(figures.saved),
    raw: median(figures.raw),
    pairdrop: median(figures.pairdrop),
  };
  const ratios = {
    ferryToRaw: medians.ferry / medians.raw,
    ferryToPairdrop: medians.ferry / medians.pairdrop,
    savedToRaw: medians.saved / medians.raw,
    savedToPairdrop: medians.saved / medians.pairdrop,
  };
  const pairRtt = median(rounds.flatMap((r) => (typeof r.rttMs === 'number' ? [r.rttMs] : [])));
  const heapPeak = (kind: Kind, key: keyof Heaps) => Math.max(...of(kind).map((r) => r.heaps[key]));
  const cpuPerGB = (kind: Kind) => median(of(kind).map((r) => r.cpuSeconds / (SIZE / 1e9)));
  /** Per process kind, the median CPU-s per GB of the kinds that used at least 1 % of it. */
  const cpuSplit = (kind: Kind) => {
    const names = new Set(of(kind).flatMap((r) => Object.keys(r.cpuByKind)));
    const parts = [...names].map((name) => ({
      name,
      perGB: median(of(kind).map((r) => (r.cpuByKind[name] ?? 0) / (SIZE / 1e9))),
    }));
    return parts
      .filter((p) => p.perGB >= cpuPerGB(kind) / 100)
      .sort((a, b) => b.perGB - a.perGB)
      .map((p) => `${p.name} ${p.perGB.toFixed(1)}`)
      .join(', ');
  };
  const list = (values: number[]) => values.map((v) => v.toFixed(1)).join(', ');

  console.log('');
  console.log(
    `P2P, ${SIZE_MB} MiB, source ${label}, ${RUNS} rounds of a/b/c, marks ${marks.low / MiB}/${marks.high / MiB} MiB`,
  );
  const route = RTT_MS > 0 ? `${RTT_MS} ms emulated (TURN behind a delaying relay)` : 'loopback';
  console.log(`Route: ${route}; the baselines' candidate pair measured ${pairRtt.toFixed(1)} ms round trip (median).`);
  console.log('| what | MB/s (median) | rounds |');
  console.log('| --- | --- | --- |');
  for (const key of ['ferry', 'saved', 'raw', 'pairdrop'] as const) {
    console.log(`| ${LABELS[key]} | ${medians[key].toFixed(1)} | ${list(figures[key])} |`);
  }
  const met = ratios.ferryToRaw >= GOALS.rawRatio ? 'met' : '**not met**';
  console.log(`| a / b | ${ratios.ferryToRaw.toFixed(2)} | goal ≥ ${GOALS.rawRatio}: ${met} |`);
  const rttGoal =
    RTT_MS > 0
      ? `goal ≥ ${GOALS.pairdropRatioAt40ms} at 40 ms: ${ratios.ferryToPairdrop >= 3 ? 'met' : '**not met**'}`
      : '';
  console.log(`| a / c | ${ratios.ferryToPairdrop.toFixed(2)} | ${rttGoal} |`);
  console.log(`| a′ / b | ${ratios.savedToRaw.toFixed(2)} | |`);
  console.log(`| a′ / c | ${ratios.savedToPairdrop.toFixed(2)} | |`);
  console.log('');
  console.log(
    '| per kind | peak JS heap, sender (pages + workers + SW) | recipient | peak PSS of the browser | browser CPU-s per GB (median) | by process |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const kind of KINDS) {
    const cells = [mib(heapPeak(kind, 'sender')), mib(heapPeak(kind, 'recipient')), mib(heapPeak(kind, 'treePss'))];
    console.log(`| ${kind} | ${cells.join(' | ')} | ${cpuPerGB(kind).toFixed(1)} | ${cpuSplit(kind)} |`);
  }
  return { figures, medians, ratios, pairRttMs: pairRtt, rttMs: RTT_MS };
}

/** BENCH_PROFILE: a round's CPU per thread and its busiest functions, in seconds per GB. */
function printProfile(result: Round): void {
  const perGB = (seconds: number) => (seconds / (SIZE / 1e9)).toFixed(1);
  const top = (entries: Record<string, number>, n: number) =>
    Object.entries(entries)
      .slice(0, n)
      .map(([name, seconds]) => `    ${perGB(seconds).padStart(6)}  ${name}`)
      .join('\n');
  const sum = (entries: Record<string, number>) => Object.values(entries).reduce((a, b) => a + b, 0);
  if (result.threads) {
    console.log(`  CPU-s per GB by thread (${result.kind}), ${perGB(sum(result.threads))} in all:`);
    console.log(top(result.threads, 24));
  }
  if (result.threadsToVerified) {
    console.log(`  of which until verified in OPFS, ${perGB(sum(result.threadsToVerified))} in all:`);
    console.log(top(result.threadsToVerified, 24));
  }
  for (const profile of result.profiles ?? []) {
    console.log(`  JS self CPU-s per GB, ${profile.target} (${profile.context}):\n${top(profile.self, 20)}`);
  }
}

// ---------------------------------------------------------------- main

/**
 * BENCH_RTT_MS: every transfer goes through coturn (relay only, for Ferry and the baselines
 * alike) behind a DelayRelay that holds each datagram a quarter of the round trip (a packet
 * and its answer pass it four times). Answers the server's extra environment.
 */
async function roundTrip(rttMs: number): Promise<Record<string, string>> {
  log(`netem: ${netemFailure(rttMs) ?? 'available (not used)'}`);
  const coturn = await Coturn.start();
  onCleanUp(() => coturn.stop());
  const relay = await spawnDelayRelay(coturn.port, rttMs / 4);
  onCleanUp(() => relay.stop());
  log(
    `${rttMs} ms round trip: coturn on ${coturn.port} behind a relay on ${relay.port} holding datagrams ${rttMs / 4} ms`,
  );
  return { ...coturn.ferryEnv, FERRY_TURN_URLS: `turn:127.0.0.1:${relay.port}?transport=udp` };
}

async function main(): Promise<void> {
  const started = new Date();
  mkdirSync(OUT, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'ferry-p2p-bench-'));
  onCleanUp(() => rm(tmp, { recursive: true, force: true }));
  const source = sourceTree(ROOT, tmp, SRC, ['serve.ts', 'p2p-page']);
  log(`source ${source.label}, ${SIZE_MB} MiB, ${RUNS} rounds of ferry/raw/pairdrop; temp ${tmp}`);

  log('building the app (bench/out/p2p-app) and the baseline page (bench/out/p2p-page)…');
  const appDir = join(OUT, 'p2p-app');
  const pageDir = join(OUT, 'p2p-page');
  await buildApp(source.root, appDir, !PROFILE);
  await buildBaselinePage(source.root, pageDir);

  const file = join(tmp, `ferry-p2p-${SIZE_MB}MiB.bin`);
  const sha = await writeRandomFile(file, SIZE, 0x2b2b);
  const dataDir = join(tmp, 'data');
  mkdirSync(dataDir);
  const server = await BenchServer.start(source.root, appDir, dataDir, RTT_MS ? await roundTrip(RTT_MS) : {});
  onCleanUp(() => server.stop());
  const site = await serveStatic(pageDir);
  onCleanUp(site.close);
  const downloads = join(tmp, 'downloads');
  mkdirSync(downloads);
  const ice = (await (await fetch(`${server.origin}/api/ice`)).json()) as RTCConfiguration;
  const setup: Setup = {
    server,
    pageOrigin: site.origin,
    browser: await launch(downloads),
    file,
    sha,
    ice: { iceServers: ice.iceServers ?? [], iceTransportPolicy: ice.iceTransportPolicy ?? 'all' },
    console: [],
    tmp,
  };
  log(`app at ${server.origin}, baseline page at ${site.origin}`);

  const marks = await withContexts(setup, (page) => openBaselinePage(page, setup.pageOrigin));
  const rounds: Round[] = [];
  try {
    for (let round = 1; round <= RUNS; round++) {
      for (const kind of KINDS) {
        const result = kind === 'ferry' ? await ferryRound(setup, round) : await baselineRound(setup, kind, round);
        rounds.push(result);
        const saved = result.savedMs ? `, saved ${mbps(SIZE, result.savedMs).toFixed(1)} MB/s` : '';
        const pss = result.pss
          ? `; browser PSS before → peak: sender ${mib(result.pss.sender.before)} → ${mib(result.pss.sender.peak)}, recipient ${mib(result.pss.recipient.before)} → ${mib(result.pss.recipient.peak)}`
          : '';
        log(`round ${round} ${kind}: ${mbps(SIZE, result.ms).toFixed(1)} MB/s${saved}${pss}`);
        if (PROFILE) printProfile(result);
      }
    }
  } catch (error) {
    if (setup.console.length) console.error(setup.console.slice(-40).join('\n'));
    throw error;
  }
  const summary = report(rounds, marks, source.label);
  const result = {
    started: started.toISOString(),
    source: source.label,
    size: SIZE,
    runs: RUNS,
    marks,
    rawMessageBytes: RAW_MESSAGE_BYTES,
    pairdrop: { chunkBytes: PAIRDROP_CHUNK_BYTES, partitionBytes: PAIRDROP_PARTITION_BYTES },
    goals: GOALS,
    ...summary,
    rounds,
    console: setup.console.slice(-200),
  };
  const json = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(join(OUT, `p2p-${started.toISOString().replace(/[:.]/g, '-')}.json`), json);
  writeFileSync(join(OUT, 'p2p-latest.json'), json);
}

await runMain(main);
