/**
 * The benchmark's child processes (the browsers it launched) from /proc, and their CPU time
 * (utime + stime of /proc/<pid>/stat, in clock ticks of 1/100 s on Linux). On a shared
 * 2-core machine throughput follows CPU cost, so CPU-seconds per transfer say more than
 * MB/s alone.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const TICKS_PER_SECOND = 100;

/** A process of the browser: its CPU seconds so far and its kind (browser, renderer, gpu-process, network…). */
export interface Proc {
  seconds: number;
  kind: string;
}

/** The fields of a /proc/<pid>/stat text after "pid (comm) ": field n (1-based, proc(5)) is at n - 3. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (utime + stime) from a /proc/<pid>/stat text. */
export function statSeconds(stat: string): number {
  const fields = statFields(stat);
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds a process used so far, or NaN when it is gone. */
export function processSeconds(pid: number): number {
  try {
    return statSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** Chromium's process kind from its command line: --type, or the utility's service name. */
function kindOf(pid: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const type = /--type=([a-z-]+)/.exec(cmd)?.[1];
    if (!type) return cmd.includes('chrom') ? 'browser' : 'other';
    if (type !== 'utility') return type;
    return /--utility-sub-type=(?:\w+\.mojom\.)?(\w+)/.exec(cmd)?.[1] ?? 'utility';
  } catch {
    return 'gone';
  }
}

/** Every live descendant of this process outside the subtrees of `exclude`, with its CPU so far. */
export function descendants(exclude: readonly number[] = []): Map<number, Proc> {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(statFields(stat)[1]));
      cpu.set(Number(name), statSeconds(stat));
    } catch {
      // The process ended while we looked.
    }
  }
  const mine = new Map<number, Proc>();
  for (const [pid, seconds] of cpu) {
    if (exclude.includes(pid)) continue;
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (exclude.includes(p)) break;
      if (p === process.pid) {
        mine.set(pid, { seconds, kind: kindOf(pid) });
        break;
      }
    }
  }
  return mine;
}

/**
 * CPU seconds the descendants used since `before`, in all and per process kind (processes
 * started since count whole; those that ended since are missed).
 */
export function cpuSince(
  before: ReadonlyMap<number, Proc>,
  exclude: readonly number[] = [],
): { total: number; byKind: Record<string, number> } {
  return cpuBetween(before, descendants(exclude));
}

/** CPU seconds used between two snapshots of `descendants`, in all and per process kind. */
export function cpuBetween(
  before: ReadonlyMap<number, Proc>,
  after: ReadonlyMap<number, Proc>,
): { total: number; byKind: Record<string, number> } {
  let total = 0;
  const byKind: Record<string, number> = {};
  for (const [pid, { seconds, kind }] of after) {
    const used = seconds - (before.get(pid)?.seconds ?? 0);
    total += used;
    byKind[kind] = (byKind[kind] ?? 0) + used;
  }
  return { total, byKind };
}
