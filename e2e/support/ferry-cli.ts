/**
 * The `ferry` command as a child process: `node cli/ferry.mjs …` (what `npx ferry` runs),
 * started directly so that killing it kills the command itself. Its state directory is
 * the test's own (XDG_STATE_HOME), so runs of one test share it and tests do not.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface FerryCliOptions {
  /** Sets FERRY_DEBUG=1 for every command (direct connections say what they do). */
  debug?: boolean;
}

export class FerryCli {
  readonly #stateDir: string;
  readonly #debug: boolean;
  /** Every command started: its arguments and its stderr so far. */
  readonly #runs: { args: string[]; stderr: () => string; child: ChildProcess }[] = [];

  constructor(stateDir: string, { debug = false }: FerryCliOptions = {}) {
    this.#stateDir = stateDir;
    this.#debug = debug;
  }

  /** Each command's arguments, exit and stderr, for a failed test's attachment. */
  get transcript(): string {
    return this.#runs
      .map(({ args, stderr, child }) => {
        const end = child.exitCode ?? child.signalCode ?? 'still running';
        return `$ ferry ${args.join(' ')}  (exit: ${end})\n${stderr()}`;
      })
      .join('\n');
  }

  /** Kills the commands still running (a failed test leaves them waiting). */
  stop(): void {
    for (const { child } of this.#runs) if (child.exitCode === null && child.signalCode === null) child.kill();
  }

  /**
   * Starts `ferry ARGS`; `exited` settles when it ends, `stderr` grows while it runs.
   * `input`: its stdin is a pipe (`child.stdin`), for the answers a person types.
   */
  start(
    args: string[],
    env: Record<string, string> = {},
    { input = false }: { input?: boolean } = {},
  ): { child: ChildProcess; exited: Promise<CliRun>; stderr: () => string } {
    const child = spawn(process.execPath, ['cli/ferry.mjs', ...args], {
      cwd: ROOT,
      env: { ...process.env, XDG_STATE_HOME: this.#stateDir, ...(this.#debug ? { FERRY_DEBUG: '1' } : {}), ...env },
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<CliRun>((done) => child.once('close', (status) => done({ status, stdout, stderr })));
    this.#runs.push({ args, stderr: () => stderr, child });
    return { child, exited, stderr: () => stderr };
  }

  /** Runs `ferry ARGS` to its end. */
  run(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return this.start(args, env).exited;
  }
}

/** The sum of a Prometheus counter (all its label sets) from the server's /metrics. */
export async function counter(serverUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) sum += Number(match[1]);
  }
  return sum;
}
