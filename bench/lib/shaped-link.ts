/**
 * BENCH_LINK_MBIT: run a benchmark over a link of that speed instead of bare loopback.
 *
 * On bare loopback both sides of a comparison are CPU-bound (nothing else limits them), which
 * is the harshest case for any client-side work such as hashing and encrypting. A real uplink
 * is slower than that. This machine's kernel has no netem but does have the token-bucket
 * filter, so the benchmark re-runs itself as root inside a network namespace of its own whose
 * loopback is shaped with `tc qdisc … tbf rate <N>mbit`: the server, the browsers and every
 * connection between them live in that namespace, so baseline and Ferry cross the same link.
 * The namespace is deleted when the run ends, however it ends.
 */
import { spawn, spawnSync } from 'node:child_process';

const MARK = 'FERRY_BENCH_LINK_NETNS';

/** The requested link in Mbit/s, or null for bare loopback. */
export function linkMbit(): number | null {
  const raw = process.env.BENCH_LINK_MBIT;
  if (!raw) return null;
  const mbit = Number(raw);
  if (!Number.isFinite(mbit) || mbit <= 0 || mbit > 100_000)
    throw new Error(`BENCH_LINK_MBIT=${raw}: want Mbit/s, e.g. 200`);
  return mbit;
}

/** How the link was described to this process ('' on bare loopback). */
export function linkLabel(): string {
  const mbit = linkMbit();
  return mbit === null ? '' : `, over a ${mbit} Mbit/s link (tc tbf on a namespace's loopback)`;
}

/** True once this process runs inside its shaped namespace (or needs none). */
export function insideLink(): boolean {
  return linkMbit() === null || process.env[MARK] !== undefined;
}

function run(args: string[]): void {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${args.join(' ')}: ${result.stderr?.trim() || result.error?.message || `exit ${result.status}`}`);
  }
}

/**
 * Re-runs this very command inside a new namespace whose loopback is shaped to `mbit`, and
 * answers its exit code. The bucket holds 10 ms of the rate but at least 256 KiB, since
 * loopback hands the qdisc packets of up to 64 KiB (a bucket smaller than a packet drops it).
 */
export async function rerunInLink(mbit: number): Promise<number> {
  const ns = `ferry-bench-${process.pid}`;
  const burst = Math.max(256 * 1024, Math.ceil((mbit * 1e6) / 8 / 100));
  run(['ip', 'netns', 'add', ns]);
  const remove = () => spawnSync('ip', ['netns', 'delete', ns]);
  try {
    const inNs = (...args: string[]) => run(['ip', 'netns', 'exec', ns, ...args]);
    inNs('ip', 'link', 'set', 'lo', 'up');
    // With loopback alone Chromium says navigator.onLine = false (and Ferry will not send
    // offline): a veth pair inside the namespace, up and addressed, is its "network".
    inNs('ip', 'link', 'add', 'ferry0', 'type', 'veth', 'peer', 'name', 'ferry1');
    inNs('ip', 'addr', 'add', '10.254.0.1/30', 'dev', 'ferry0');
    inNs('ip', 'link', 'set', 'ferry1', 'up');
    inNs('ip', 'link', 'set', 'ferry0', 'up');
    const shape = ['tbf', 'rate', `${mbit}mbit`, 'burst', String(burst), 'latency', '50ms'];
    inNs('tc', 'qdisc', 'add', 'dev', 'lo', 'root', ...shape);
  } catch (error) {
    remove();
    throw new Error(`cannot shape a link here (needs root, iproute2 and the tbf qdisc): ${(error as Error).message}`);
  }
  console.log(`[bench] re-running inside network namespace ${ns}: loopback at ${mbit} Mbit/s (tbf, burst ${burst} B)`);
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: ns },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((done) => child.on('exit', (code, signal) => done(code ?? (signal ? 130 : 1))));
  } finally {
    remove();
  }
}
