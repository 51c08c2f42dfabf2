/**
 * The benchmark's child processes (the browsers it launched) from /proc, and their CPU time
 * (utime + stime of /proc/<pid>/stat, in clock ticks of 1/100 s on Linux). On a shared
 * 2-core machine throughput follows CPU cost, so CPU-seconds per transfer say more than
 * MB/s alone.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/**
 * Every live descendant of this process outside the subtrees of `exclude`, with its CPU
 * seconds so far.
 */
export function descendants(exclude: readonly number[] = []): Map<number, number> {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // After "pid (comm) " come state, ppid, …: field n (1-based, proc(5)) is at n - 3.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(name), Number(fields[1]));
      cpu.set(Number(name), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    } catch {
      // The process ended while we looked.
    }
  }
  const mine = new Map<number, number>();
  for (const [pid, seconds] of cpu) {
    if (exclude.includes(pid)) continue;
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (exclude.includes(p)) break;
      if (p === process.pid) {
        mine.set(pid, seconds);
        break;
      }
    }
  }
  return mine;
}

/** CPU seconds the descendants used since `before` (processes started since count whole). */
export function cpuSince(before: ReadonlyMap<number, number>, exclude: readonly number[] = []): number {
  let sum = 0;
  for (const [pid, seconds] of descendants(exclude)) sum += seconds - (before.get(pid) ?? 0);
  return sum;
}
