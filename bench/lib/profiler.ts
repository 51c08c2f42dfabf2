/**
 * CPU profiles of every page and dedicated worker a browser runs, for bench/p2p.ts
 * (BENCH_PROFILE=1): a browser-level CDP session lists the targets every POLL_MS, attaches
 * to each new one (non-flattened, as bench/lib/heap.ts does, commands through
 * Target.sendMessageToTarget) and starts V8's sampling profiler there (Profiler.start,
 * one sample per SAMPLE_US). `stop` collects each profile and answers, per target, the
 * JavaScript self time by function: which code of the app, of simple-peer or of Svelte
 * runs on which thread, and for how long. Native work a call starts elsewhere (WebCrypto,
 * the SCTP stack) is not in these profiles; bench/lib/threads.ts has it per thread.
 */
import type { Browser, CDPSession } from 'playwright-core';
import { sleep } from './stats.ts';

const KINDS = new Set(['page', 'worker']);
const POLL_MS = 250;
const SAMPLE_US = 1000;
const ANSWER_MS = 30_000;

interface TargetInfo {
  targetId: string;
  type: string;
  url: string;
  browserContextId?: string;
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** One target's profile, summed: seconds of JavaScript self time per function. */
export interface TargetProfile {
  /** `page` or `worker`, and its URL's path (the link's #key left out). */
  target: string;
  /** CDP browserContextId: whose it is. */
  context: string;
  /** Seconds sampled (wall time the profiler ran). */
  seconds: number;
  /** Self seconds per `function (file:line)`, the largest first, those of at least 0.1 s. */
  self: Record<string, number>;
}

function label(target: TargetInfo): string {
  try {
    return `${target.type} ${new URL(target.url).pathname}`;
  } catch {
    return `${target.type} ${target.url}`;
  }
}

/** Self time per function of one V8 CPU profile (Profiler.Profile: samples and their time deltas). */
export function selfTimes(profile: Profile): Record<string, number> {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const sums = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // Each delta is the time before sample i; it is charged to what that sample saw.
    const frame = byNode.get(samples[i]!);
    if (!frame) continue;
    const file = frame.url ? frame.url.slice(frame.url.lastIndexOf('/') + 1) : '';
    const name = `${frame.functionName || '(anonymous)'}${file ? ` (${file}:${frame.lineNumber + 1})` : ''}`;
    sums.set(name, (sums.get(name) ?? 0) + (deltas[i] ?? 0) / 1e6);
  }
  return Object.fromEntries(
    [...sums]
      .filter(([, s]) => s >= 0.1)
      .sort((a, b) => b[1] - a[1])
      .map(([k, s]) => [k, Math.round(s * 100) / 100]),
  );
}

export class Profiler {
  readonly #cdp: CDPSession;
  readonly #sessions = new Map<string, { target: string; context: string }>();
  readonly #attaching = new Set<string>();
  readonly #pending = new Map<number, (result: unknown) => void>();
  #nextId = 1;
  #running = true;
  #loop: Promise<void> = Promise.resolve();

  private constructor(cdp: CDPSession) {
    this.#cdp = cdp;
  }

  static async start(browser: Browser): Promise<Profiler> {
    const profiler = new Profiler(await browser.newBrowserCDPSession());
    profiler.#cdp.on('Target.receivedMessageFromTarget', (event: { message: string }) => {
      const message = JSON.parse(event.message) as { id?: number; result?: unknown };
      if (message.id === undefined) return;
      const resolve = profiler.#pending.get(message.id);
      profiler.#pending.delete(message.id);
      resolve?.(message.result ?? null);
    });
    profiler.#loop = profiler.#run();
    return profiler;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        await this.#attachNew();
      } catch {
        // The browser is closing; the loop ends with stop().
      }
      await sleep(POLL_MS);
    }
  }

  async #attachNew(): Promise<void> {
    const { targetInfos } = (await this.#cdp.send('Target.getTargets')) as { targetInfos: TargetInfo[] };
    for (const target of targetInfos) {
      if (!KINDS.has(target.type) || target.url === 'about:blank' || this.#attaching.has(target.targetId)) continue;
      this.#attaching.add(target.targetId);
      try {
        const { sessionId } = (await this.#cdp.send('Target.attachToTarget', {
          targetId: target.targetId,
          flatten: false,
        })) as { sessionId: string };
        await this.#call(sessionId, 'Profiler.enable');
        await this.#call(sessionId, 'Profiler.setSamplingInterval', { interval: SAMPLE_US });
        await this.#call(sessionId, 'Profiler.start');
        this.#sessions.set(sessionId, { target: label(target), context: target.browserContextId ?? '' });
      } catch {
        // Gone before we got there.
      }
    }
  }

  /** One command to an attached target; null when it does not answer in time. */
  async #call(sessionId: string, method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    const answer = new Promise<unknown>((done) => {
      this.#pending.set(id, done);
      setTimeout(() => {
        if (this.#pending.delete(id)) done(null);
      }, ANSWER_MS);
    });
    await this.#cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
    return answer;
  }

  /** Stops every profiler and answers each target's self times (targets already gone are missing). */
  async stop(): Promise<TargetProfile[]> {
    this.#running = false;
    await this.#loop;
    const profiles = await Promise.all(
      [...this.#sessions].map(async ([sessionId, { target, context }]) => {
        const result = (await this.#call(sessionId, 'Profiler.stop').catch(() => null)) as {
          profile?: Profile;
        } | null;
        const profile = result?.profile;
        if (!profile) return null;
        const seconds = (profile.endTime - profile.startTime) / 1e6;
        return { target, context, seconds, self: selfTimes(profile) };
      }),
    );
    await this.#cdp.detach().catch(() => undefined);
    return profiles.filter((p): p is TargetProfile => p !== null);
  }
}
