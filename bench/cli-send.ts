/**
 * `ferry send` against `curl -T` of the same file to the bench sink on the same server
 * (PUT /api/bench/sink, FERRY_BENCH_SINK=1), at two sizes in one run (256 MiB and 2 GiB by
 * default): prints the throughput ratio at each size and the command's peak RSS (VmHWM,
 * from /usr/bin/time -f %M), so a size-dependent memory shows as two different figures.
 * `npm run bench:cli`; BENCH_SIZES_MB sets the sizes (comma-separated), BENCH_RUNS the runs
 * per side, and BENCH_BEFORE (the ferry.mjs of another checkout, e.g. one made with `git
 * archive main`) adds that command to the same runs, for a before and after on one load.
 * CPU: the command's user + system seconds (from /usr/bin/time, all its threads) and the
 * server's (/proc/<pid>/stat) per GiB sent, for each side and for curl, since on a 2-core
 * machine the command and the server compete for the same cores; and the load average.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { onCleanUp, runMain } from './lib/cleanup.ts';
import { writeRandomFile } from './lib/files.ts';

const MiB = 1024 * 1024;
const SIZES = (process.env.BENCH_SIZES_MB ?? '256,2048').split(',').map((mb) => Number(mb) * MiB);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const ROOT = resolve(import.meta.dirname, '..');
const BEFORE = process.env.BENCH_BEFORE;

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ ms: number; err: string }> {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-4000);
  });
  return new Promise((done, fail) =>
    child.once('close', (status) =>
      status === 0
        ? done({ ms: performance.now() - started, err })
        : fail(new Error(`${command} exited ${status}: ${err}`)),
    ),
  );
}

async function startServer(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/serve.ts', '--host', '127.0.0.1', '--port', String(port), '--data', dataDir],
    {
      cwd: ROOT,
      env: { ...process.env, FERRY_BENCH_SINK: '1', FERRY_LOG_LEVEL: 'warn', FERRY_SKIP_BUILD: '1' },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  onCleanUp(async () => {
    child.kill('SIGTERM');
  });
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error('the server did not start in 60 s')), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (/Ferry is running/.test(chunk.toString())) {
        clearTimeout(timer);
        done();
      }
    });
  });
  return child;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const mbps = (size: number, ms: number) => size / 1e6 / (ms / 1000);

interface Side {
  label: string;
  command: string;
  ms: number[];
  rss: number[];
  /** The command's CPU seconds per run (user + system). */
  cpu: number[];
  /** The server's CPU seconds per run. */
  serverCpu: number[];
}

/** CPU seconds a process has used so far (utime + stime of /proc/<pid>/stat). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const loadAverage = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

/** RUNS rounds of curl then each side, on a fresh file of `size` bytes; answers the report lines. */
async function measure(dir: string, url: string, server: number, size: number): Promise<string[]> {
  const file = join(dir, `payload-${size}.bin`);
  await writeRandomFile(file, size, 7);
  const curl: number[] = [];
  const curlServerCpu: number[] = [];
  const sides: Side[] = [
    ...(BEFORE ? [{ label: 'before', command: resolve(BEFORE), ms: [], rss: [], cpu: [], serverCpu: [] }] : []),
    { label: BEFORE ? 'after' : '', command: 'cli/ferry.mjs', ms: [], rss: [], cpu: [], serverCpu: [] },
  ];
  const perGiB = (seconds: number) => (seconds * 1024 * MiB) / size;
  for (let i = 0; i < RUNS; i++) {
    let serverBefore = await cpuSeconds(server);
    const sink = await run('curl', ['-sS', '--fail', '-T', file, `${url}/api/bench/sink`]);
    curl.push(sink.ms);
    curlServerCpu.push(perGiB((await cpuSeconds(server)) - serverBefore));
    console.error(
      `${size / MiB} MiB  curl -T sink   ${mbps(size, sink.ms).toFixed(0)} MB/s, server ${curlServerCpu.at(-1)?.toFixed(2)} CPU-s/GiB, load ${await loadAverage()}`,
    );
    for (const [n, side] of sides.entries()) {
      // A fresh state directory each run: every run is a new send, not a resume.
      const state = join(dir, `state-${size}-${i}-${n}`);
      serverBefore = await cpuSeconds(server);
      const sent = await run(
        '/usr/bin/time',
        ['-f', 'peak-rss-kib %M cpu %U %S', process.execPath, side.command, 'send', file, '--server', url, '--json'],
        { XDG_STATE_HOME: state },
      );
      side.ms.push(sent.ms);
      side.serverCpu.push(perGiB((await cpuSeconds(server)) - serverBefore));
      const [, kib, user, system] = (/peak-rss-kib (\d+) cpu ([\d.]+) ([\d.]+)/.exec(sent.err) ?? []).map(Number);
      side.rss.push((kib ?? Number.NaN) * 1024);
      side.cpu.push(perGiB((user ?? Number.NaN) + (system ?? Number.NaN)));
      console.error(
        `${size / MiB} MiB  ferry send ${side.label.padEnd(6)} ${mbps(size, sent.ms).toFixed(0)} MB/s, peak RSS ${((kib ?? 0) / 1024).toFixed(0)} MiB, CPU-s/GiB: command ${side.cpu.at(-1)?.toFixed(2)}, server ${side.serverCpu.at(-1)?.toFixed(2)}`,
      );
    }
  }
  await rm(file, { force: true });
  const lines = [
    `  ${size / MiB} MiB: curl -T sink ${mbps(size, median(curl)).toFixed(0)} MB/s   server ${median(curlServerCpu).toFixed(2)} CPU-s/GiB`,
  ];
  for (const side of sides) {
    const ratio = mbps(size, median(side.ms)) / mbps(size, median(curl));
    lines.push(
      `  ${size / MiB} MiB: ferry send ${side.label.padEnd(6)} ${mbps(size, median(side.ms)).toFixed(0)} MB/s   ratio ${ratio.toFixed(2)}   peak RSS ${(Math.max(...side.rss) / MiB).toFixed(0)} MiB   CPU-s/GiB command ${median(side.cpu).toFixed(2)}, server ${median(side.serverCpu).toFixed(2)}`,
    );
  }
  return lines;
}

await runMain(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-cli-'));
  onCleanUp(() => rm(dir, { recursive: true, force: true }));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const server = await startServer(join(dir, 'data'), port);
  if (server.pid === undefined) throw new Error('the server has no pid');
  const load = await loadAverage();
  const url = `http://127.0.0.1:${port}`;
  const lines = [
    `ferry send vs curl -T to the sink, ${RUNS} runs each (medians; includes Node start-up and the esbuild bundle; peak RSS: the largest run; goal < 150 MiB, the same at every size)`,
  ];
  for (const size of SIZES) lines.push(...(await measure(dir, url, server.pid, size)));
  lines.push(`  load average: ${load} at the start, ${await loadAverage()} at the end (2 cores)`);
  console.log(lines.join('\n'));
});
