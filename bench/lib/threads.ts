/**
 * CPU time per thread of the browser's processes (utime + stime of
 * /proc/<pid>/task/<tid>/stat, named by /proc/<pid>/task/<tid>/comm), for the profile of
 * bench/p2p.ts (BENCH_PROFILE=1). Chromium names its threads (CrRendererMain,
 * DedicatedWorker thread, WebRTC_Network, ThreadPoolForegroundWorker, …), so the CPU a
 * transfer costs splits into the page's JavaScript, its workers, the data channel's SCTP
 * and DTLS (WebRTC_Network) and the pools that run WebCrypto and file I/O.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { descendants, TICKS_PER_SECOND } from './cpu.ts';

/** CPU seconds so far of one thread, keyed `<pid>/<tid>`. */
export interface ThreadTime {
  pid: number;
  /** The process's kind (renderer, browser, gpu-process, NetworkService, …). */
  kind: string;
  /** The thread's name with trailing digits dropped (pools number their threads). */
  name: string;
  seconds: number;
}

/** Every thread of the benchmark's descendants outside the subtrees of `exclude`. */
export function threadTimes(exclude: readonly number[] = []): Map<string, ThreadTime> {
  const times = new Map<string, ThreadTime>();
  for (const [pid, proc] of descendants(exclude)) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // the process ended while we looked
    }
    for (const tid of tids) {
      try {
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/\d+$/, '');
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
        times.set(`${pid}/${tid}`, { pid, kind: proc.kind, name, seconds });
      } catch {
        // The thread ended while we looked.
      }
    }
  }
  return times;
}

/**
 * CPU seconds per `<process>/<thread name>` since `before`, the busiest first (threads
 * started since count whole; those that ended since are missed). Renderer processes are
 * told apart by `renderers` (pid → a label such as "sender"); others go by their kind.
 */
export function threadsSince(
  before: ReadonlyMap<string, ThreadTime>,
  renderers: ReadonlyMap<number, string>,
  exclude: readonly number[] = [],
): Record<string, number> {
  const sums = new Map<string, number>();
  for (const [key, now] of threadTimes(exclude)) {
    const used = now.seconds - (before.get(key)?.seconds ?? 0);
    if (used <= 0) continue;
    const process = now.kind === 'renderer' ? `renderer ${renderers.get(now.pid) ?? now.pid}` : now.kind;
    const label = `${process}/${now.name}`;
    sums.set(label, (sums.get(label) ?? 0) + used);
  }
  return Object.fromEntries([...sums].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v * 100) / 100]));
}
