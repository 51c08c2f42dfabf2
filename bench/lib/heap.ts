/**
 * Peak JS heap of everything a browser runs: its pages, their dedicated workers and any
 * service worker. A browser-level CDP session lists the targets every ~200 ms, attaches to
 * each new one (non-flattened: Playwright's CDPSession cannot address flattened child
 * sessions, so commands travel through Target.sendMessageToTarget) and asks each for
 * `Runtime.getHeapUsage` — the V8 heap's used bytes, the same figure as
 * Performance.getMetrics' JSHeapUsedSize. ArrayBuffer contents live outside the V8 heap
 * and are not in it, so the PSS of the browser's whole process tree (renderers, GPU,
 * network, browser; /proc/<pid>/smaps_rollup) is sampled beside it.
 */
import { readFileSync } from 'node:fs';
import type { Browser, CDPSession } from 'playwright-core';
import { descendants } from './cpu.ts';
import { sleep } from './stats.ts';

const KINDS = new Set(['page', 'worker', 'service_worker', 'shared_worker']);
const EVERY_MS = 200;
const ANSWER_MS = 1000;

interface TargetInfo {
  targetId: string;
  type: string;
  url: string;
  browserContextId?: string;
}

interface Attached {
  type: string;
  url: string;
  context: string;
}

export interface HeapPeaks {
  /** Peak of the sum over all targets at one sample (bytes). */
  total: number;
  /** Peak per kind, each the peak of that kind's sum at one sample. */
  page: number;
  worker: number;
  serviceWorker: number;
  /**
   * Peak per browser context (CDP browserContextId: one person's pages, their workers and
   * service worker), each the peak of that context's sum at one sample.
   */
  byContext: Record<string, number>;
  /** Peak PSS (bytes) of the browser's whole process tree, summed at one sample. */
  treePss: number;
  samples: number;
  targets: string[];
}

function pss(pid: number): number {
  try {
    const kb = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return kb ? Number(kb[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export class HeapSampler {
  readonly #cdp: CDPSession;
  /** Processes whose descendants are not the browser's (the benchmark's server child). */
  readonly #exclude: readonly number[];
  readonly #sessions = new Map<string, Attached>();
  /** Targets already attached (or being attached). */
  readonly #attaching = new Set<string>();
  readonly #pending = new Map<number, (usedSize: number) => void>();
  #nextId = 1;
  #running = true;
  #loop: Promise<void> = Promise.resolve();
  readonly peaks: HeapPeaks = {
    total: 0,
    page: 0,
    worker: 0,
    serviceWorker: 0,
    byContext: {},
    treePss: 0,
    samples: 0,
    targets: [],
  };

  private constructor(cdp: CDPSession, exclude: readonly number[]) {
    this.#cdp = cdp;
    this.#exclude = exclude;
  }

  /**
   * Playwright (as a library) launches the browser as a child of this process, so the
   * browser's process tree is every descendant of ours except the subtrees in `exclude`.
   * Only one browser runs at a time in the benchmark.
   */
  static async start(browser: Browser, exclude: readonly number[] = []): Promise<HeapSampler> {
    const cdp = await browser.newBrowserCDPSession();
    const sampler = new HeapSampler(cdp, exclude);
    cdp.on('Target.receivedMessageFromTarget', (event: { message: string }) => {
      const message = JSON.parse(event.message) as { id?: number; result?: { usedSize?: number } };
      if (message.id === undefined) return;
      const resolve = sampler.#pending.get(message.id);
      sampler.#pending.delete(message.id);
      resolve?.(message.result?.usedSize ?? 0);
    });
    cdp.on('Target.detachedFromTarget', (event: { sessionId: string }) => {
      sampler.#sessions.delete(event.sessionId);
    });
    sampler.#loop = sampler.#run();
    return sampler;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const started = Date.now();
      try {
        await this.#sample();
      } catch {
        // The browser is closing; the loop ends with stop().
      }
      await sleep(Math.max(0, EVERY_MS - (Date.now() - started)));
    }
  }

  async #sample(): Promise<void> {
    const { targetInfos } = (await this.#cdp.send('Target.getTargets')) as { targetInfos: TargetInfo[] };
    for (const target of targetInfos) {
      if (!KINDS.has(target.type)) continue;
      this.#label(target);
      if (this.#attaching.has(target.targetId)) continue;
      this.#attaching.add(target.targetId);
      let sessionId: string;
      try {
        ({ sessionId } = (await this.#cdp.send('Target.attachToTarget', {
          targetId: target.targetId,
          flatten: false,
        })) as { sessionId: string });
      } catch {
        continue; // gone before we got there
      }
      this.#sessions.set(sessionId, { type: target.type, url: target.url, context: target.browserContextId ?? '' });
    }
    const sums = { page: 0, worker: 0, service_worker: 0, shared_worker: 0 } as Record<string, number>;
    const contexts = new Map<string, number>();
    await Promise.all(
      [...this.#sessions].map(async ([sessionId, attached]) => {
        const used = await this.#heapOf(sessionId);
        sums[attached.type] = (sums[attached.type] ?? 0) + used;
        contexts.set(attached.context, (contexts.get(attached.context) ?? 0) + used);
      }),
    );
    const total = Object.values(sums).reduce((a, b) => a + b, 0);
    const p = this.peaks;
    p.total = Math.max(p.total, total);
    p.page = Math.max(p.page, sums.page ?? 0);
    p.worker = Math.max(p.worker, (sums.worker ?? 0) + (sums.shared_worker ?? 0));
    p.serviceWorker = Math.max(p.serviceWorker, sums.service_worker ?? 0);
    for (const [context, used] of contexts) p.byContext[context] = Math.max(p.byContext[context] ?? 0, used);
    p.treePss = Math.max(p.treePss, this.#treePss());
    p.samples++;
  }

  /** Keeps a readable list of what was sampled (the link's #key left out). */
  #label(target: TargetInfo): void {
    if (target.url === 'about:blank' || target.url === '') return;
    const label = `${target.type} ${target.url.replace(/#.*/, '#…')}`;
    if (!this.peaks.targets.includes(label)) this.peaks.targets.push(label);
  }

  /** Used V8 heap bytes of one attached target; 0 when it does not answer in time (gone). */
  async #heapOf(sessionId: string): Promise<number> {
    const id = this.#nextId++;
    const answer = new Promise<number>((done) => {
      this.#pending.set(id, done);
      setTimeout(() => {
        if (this.#pending.delete(id)) done(0);
      }, ANSWER_MS);
    });
    try {
      await this.#cdp.send('Target.sendMessageToTarget', {
        sessionId,
        message: JSON.stringify({ id, method: 'Runtime.getHeapUsage' }),
      });
    } catch {
      this.#pending.delete(id);
      this.#sessions.delete(sessionId);
      return 0;
    }
    return await answer;
  }

  /** PSS (bytes) of our descendants outside `exclude`: the browser's processes. */
  #treePss(): number {
    let total = 0;
    for (const pid of descendants(this.#exclude).keys()) total += pss(pid);
    return total;
  }

  async stop(): Promise<HeapPeaks> {
    this.#running = false;
    await this.#loop;
    await this.#cdp.detach().catch(() => undefined);
    return this.peaks;
  }
}
