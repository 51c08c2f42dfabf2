/**
 * A Chromium with no DevTools protocol attached: no Playwright, no CDP session, no
 * --remote-debugging-*. DevTools' Network domain (which Playwright always enables) keeps
 * request bodies for the inspector and slows ArrayBuffer bodies down, so memory and speed
 * measured under it may not be what a user's browser does. The page reports by navigating
 * to a loopback report server (bench/send-page/main.ts); meanwhile the PSS of the
 * browser's whole process tree (/proc/<pid>/smaps_rollup) and the size of the profile's
 * blob_storage directory (where Chrome pages Blob data to disk) are sampled every 200 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuBetween, descendants, type Proc, processSeconds } from './cpu.ts';
import { sleep } from './stats.ts';

const EVERY_MS = 200;

export interface BareRun {
  ok: boolean;
  /** The page's own timing of the transfer (ms), when ok. */
  ms: number;
  error?: string;
  /** Peak PSS of the browser's process tree, bytes. */
  peakPss: number;
  /** PSS of the last sample before the page reported (after its linger), bytes. */
  endPss: number;
  /** Peak size of <profile>/blob_storage, bytes. */
  peakBlobDisk: number;
  samples: number;
  /** Peak PSS per process kind (browser, renderer, gpu-process, network…), bytes. */
  peakByKind: Record<string, number>;
  /**
   * Of that, the peak of its shared-memory part (`Pss_Shmem`) per kind, bytes: Chromium moves
   * Blob bytes and request bodies between processes through shared memory, which PSS splits
   * between the processes mapping it.
   */
  peakShmemByKind: Record<string, number>;
  /** [seconds since launch, PSS MiB] every ~1 s, for the record. */
  curve: [number, number][];
  /**
   * CPU seconds used while the page's clock ran (between the samples just before its start
   * and just after its end, so up to one sample period more): the browser's processes in
   * all and per kind, and the server's.
   */
  cpu?: { browser: number; byKind: Record<string, number>; server: number };
}

interface CpuSample {
  at: number;
  browser: Map<number, Proc>;
  server: number;
}

/** The CPU used between the last sample at or before `start` and the first at or after `end`. */
function cpuOver(samples: readonly CpuSample[], start: number, end: number): BareRun['cpu'] {
  const before = samples.findLast((s) => s.at <= start);
  const after = samples.find((s) => s.at >= end);
  if (!before || !after) return undefined;
  const { total, byKind } = cpuBetween(before.browser, after.browser);
  return { browser: total, byKind, server: after.server - before.server };
}

async function children(): Promise<Map<number, number[]>> {
  const map = new Map<number, number[]>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = await readFile(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      const list = map.get(ppid) ?? [];
      list.push(Number(name));
      map.set(ppid, list);
    } catch {
      // gone
    }
  }
  return map;
}

/** The pid of the Chromium browser process (no --type=) started with `--user-data-dir=<profile>`, if running. */
export async function browserWithProfile(profile: string): Promise<number | undefined> {
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const args = cmd.split('\0');
    if (args.includes(`--user-data-dir=${profile}`) && !args.some((a) => a.startsWith('--type='))) return Number(name);
  }
  return undefined;
}

async function kindOf(pid: number): Promise<string> {
  try {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    const type = /--type=([a-z-]+)/.exec(cmd)?.[1];
    if (!type) return cmd.includes('chrom') ? 'browser' : 'other';
    return type === 'utility' ? (/--utility-sub-type=([\w.]+)/.exec(cmd)?.[1] ?? 'utility') : type;
  } catch {
    return 'gone';
  }
}

/** PSS of `root` and its descendants: the sum, and per process kind (--type=…, or "browser"), all and shared memory. */
export async function treePss(
  root: number,
): Promise<{ sum: number; byKind: Map<string, number>; shmemByKind: Map<string, number> }> {
  const tree = await children();
  let sum = 0;
  const byKind = new Map<string, number>();
  const shmemByKind = new Map<string, number>();
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    stack.push(...(tree.get(pid) ?? []));
    try {
      const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
      const kb = /^Pss:\s+(\d+) kB/m.exec(rollup);
      if (kb) {
        sum += Number(kb[1]) * 1024;
        const kind = await kindOf(pid);
        byKind.set(kind, (byKind.get(kind) ?? 0) + Number(kb[1]) * 1024);
        const shmem = Number(/^Pss_Shmem:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) * 1024;
        shmemByKind.set(kind, (shmemByKind.get(kind) ?? 0) + shmem);
      }
    } catch {
      // gone
    }
  }
  return { sum, byKind, shmemByKind };
}

async function dirBytes(dir: string): Promise<number> {
  let sum = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sum += await dirBytes(path);
    else
      sum += await stat(path).then(
        (s) => s.size,
        () => 0,
      );
  }
  return sum;
}

/**
 * Opens `url` (plus `report=<report server>`) in a bare headless Chromium and waits for the
 * report. `extraArgs`, e.g. `--js-flags=--expose-gc` with the page's `gc=1` (a gc() every
 * 250 ms), tell garbage that is merely uncollected from memory that is held. The CPU of
 * the browser (every descendant of this process but `serverPid`'s tree) and of `serverPid`
 * is sampled too, for the span the page timed.
 */
export async function runBare(
  executable: string,
  url: string,
  limitMs: number,
  extraArgs: string[] = [],
  serverPid?: number,
): Promise<BareRun> {
  const profile = await mkdtemp(join(tmpdir(), 'ferry-bare-'));
  let answer: ((query: URLSearchParams) => void) | undefined;
  const reported = new Promise<URLSearchParams>((resolve) => {
    answer = resolve;
  });
  const reportServer = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>reported</title>');
    if (req.url?.startsWith('/report')) answer?.(new URL(req.url, 'http://localhost').searchParams);
  });
  await new Promise<void>((done) => reportServer.listen(0, '127.0.0.1', done));
  const port = (reportServer.address() as AddressInfo).port;
  const target = new URL(url);
  target.searchParams.set('report', `http://127.0.0.1:${port}/report`);
  let browser: ChildProcess | undefined;
  try {
    browser = spawn(
      executable,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        ...extraArgs,
        target.href,
      ],
      { stdio: 'ignore', detached: true },
    );
    const pid = browser.pid ?? 0;
    const run: BareRun = {
      ok: false,
      ms: 0,
      peakPss: 0,
      endPss: 0,
      peakBlobDisk: 0,
      samples: 0,
      peakByKind: {},
      peakShmemByKind: {},
      curve: [],
    };
    const t0 = Date.now();
    let query: URLSearchParams | undefined;
    void reported.then((q) => {
      query = q;
    });
    let lastCurve = -1;
    const cpuSamples: CpuSample[] = [];
    const exclude = serverPid === undefined ? [] : [serverPid];
    while (!query) {
      cpuSamples.push({
        at: Date.now(),
        browser: descendants(exclude),
        server: serverPid === undefined ? 0 : processSeconds(serverPid),
      });
      if (Date.now() - t0 > limitMs) {
        run.error = `no report within ${limitMs / 1000} s`;
        return run;
      }
      if (browser.exitCode !== null) {
        run.error = `Chromium exited (${browser.exitCode}) before reporting`;
        return run;
      }
      const { sum: pss, byKind, shmemByKind } = await treePss(pid);
      if (query) break; // the report page may already have replaced the app page
      for (const [kind, bytes] of byKind) run.peakByKind[kind] = Math.max(run.peakByKind[kind] ?? 0, bytes);
      for (const [kind, bytes] of shmemByKind)
        run.peakShmemByKind[kind] = Math.max(run.peakShmemByKind[kind] ?? 0, bytes);
      run.peakPss = Math.max(run.peakPss, pss);
      run.endPss = pss;
      run.peakBlobDisk = Math.max(run.peakBlobDisk, await dirBytes(join(profile, 'Default', 'blob_storage')));
      run.samples++;
      const second = Math.floor((Date.now() - t0) / 1000);
      if (second !== lastCurve) {
        lastCurve = second;
        run.curve.push([second, Math.round(pss / 1048576)]);
      }
      await sleep(EVERY_MS);
    }
    const q = query as URLSearchParams;
    run.ok = q.get('ok') === '1';
    run.ms = Number(q.get('ms') ?? 0);
    if (!run.ok) run.error = q.get('error') ?? 'unknown error';
    const end = Number(q.get('end'));
    if (run.ok && Number.isFinite(end)) run.cpu = cpuOver(cpuSamples, end - run.ms, end);
    return run;
  } finally {
    if (browser?.pid && browser.exitCode === null) {
      // Its own process group (detached): the wrapper script, the browser and its children.
      try {
        process.kill(-browser.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await sleep(500);
      try {
        process.kill(-browser.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise<void>((done) => reportServer.close(() => done()));
    await rm(profile, { recursive: true, force: true });
  }
}
