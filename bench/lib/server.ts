/**
 * The Ferry server as a child process (`node --import tsx bench/serve.ts`, so the child's
 * pid is the server itself), with a temp data directory, the bench sink, loopback only,
 * and a port the OS picks. Its resident memory is read from /proc/<pid>/status.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { within } from './stats.ts';

const READY = /Ferry is running at http:\/\/localhost:(\d+)/;

export class BenchServer {
  readonly origin: string;
  readonly pid: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #log: string[];

  private constructor(child: ChildProcess, port: number, exited: Promise<void>, log: string[]) {
    this.#child = child;
    this.pid = child.pid ?? 0;
    this.origin = `http://127.0.0.1:${port}`;
    this.#exited = exited;
    this.#log = log;
  }

  /**
   * `root`: the source tree whose server/ runs (the checkout, or a snapshot of a commit);
   * `env`: more configuration (FERRY_TURN_URLS and the like).
   */
  static async start(
    root: string,
    distDir: string,
    dataDir: string,
    env: Record<string, string> = {},
  ): Promise<BenchServer> {
    const log: string[] = [];
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'bench', 'serve.ts')], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...env,
        PORT: '0',
        HOST: '127.0.0.1',
        FERRY_DATA_DIR: dataDir,
        FERRY_BENCH_SINK: '1',
        FERRY_SKIP_BUILD: '1',
        BENCH_DIST_DIR: distDir,
      },
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const port = await within(
      new Promise<number>((done, fail) => {
        const onData = (data: Buffer) => {
          log.push(data.toString());
          const match = READY.exec(log.join(''));
          if (match) done(Number(match[1]));
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', (data: Buffer) => log.push(data.toString()));
        child.once('exit', (code) => fail(new Error(`server exited (${code}) before it was ready:\n${log.join('')}`)));
      }),
      30_000,
      'server start',
    ).catch(async (error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    return new BenchServer(child, port, exited, log);
  }

  get log(): string {
    return this.#log.join('');
  }

  /** VmRSS in bytes, or NaN when the process is gone. */
  rss(): number {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status);
      return kb ? Number(kb[1]) * 1024 : Number.NaN;
    } catch {
      return Number.NaN;
    }
  }

  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** Samples a value every `everyMs` and keeps the peak, until stopped. */
export class PeakSampler {
  peak = Number.NEGATIVE_INFINITY;
  samples = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly read: () => number,
    everyMs = 200,
  ) {
    this.#take();
    this.#timer = setInterval(() => this.#take(), everyMs);
  }

  #take(): void {
    const value = this.read();
    if (Number.isFinite(value)) {
      this.peak = Math.max(this.peak, value);
      this.samples++;
    }
  }

  stop(): number {
    clearInterval(this.#timer);
    this.#take();
    return this.peak;
  }
}
