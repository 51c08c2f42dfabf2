/**
 * The real Ferry server as a child process: `node --import tsx server/main.ts --port <p>
 * --data <dir>`, run directly under node (not through npx or the tsx CLI, which fork a
 * second process) so that `kill('SIGKILL')` kills the server itself, as a crash would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const READY = /Ferry is running at (http:\/\/\S+)/;
const START_TIMEOUT_MS = 30_000;

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return await new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

export class FerryServer {
  readonly port: number;
  readonly dataDir: string;
  readonly url: string;
  readonly #env: Record<string, string>;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log: string[] = [];

  private constructor(port: number, dataDir: string, env: Record<string, string>) {
    this.port = port;
    this.dataDir = dataDir;
    this.url = `http://localhost:${port}`;
    this.#env = env;
  }

  /** Starts a server on a free port with a fresh, empty data directory. */
  static async start(env: Record<string, string> = {}): Promise<FerryServer> {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-e2e-data-'));
    const server = new FerryServer(await freePort(), dataDir, env);
    await server.#spawn();
    return server;
  }

  /** Everything the server printed so far (stdout and stderr, all its lives). */
  get log(): string {
    return this.#log.join('');
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Sends `signal` (SIGKILL by default: no clean shutdown) and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.#child?.kill(signal);
    await this.#exited;
  }

  /**
   * Stops the server if it runs and starts it again on the same port and data directory,
   * without the files of that directory named in `forget` (a database lost, say).
   */
  async restart({ forget = [] }: { forget?: string[] } = {}): Promise<void> {
    await this.kill('SIGTERM');
    for (const name of forget) await rm(join(this.dataDir, name), { force: true });
    await this.#spawn();
  }

  /** Stops the server and deletes its data directory. */
  async dispose(): Promise<void> {
    await this.kill('SIGTERM');
    await rm(this.dataDir, { recursive: true, force: true });
  }

  async #spawn(): Promise<void> {
    this.#log.push(`--- starting on port ${this.port}, data ${this.dataDir}\n`);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'server/main.ts', '--port', String(this.port), '--data', this.dataDir],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          PORT: String(this.port),
          FERRY_DATA_DIR: this.dataDir,
          // npm run test:e2e builds dist/ once; parallel servers must not rebuild it.
          FERRY_SKIP_BUILD: '1',
          ...this.#env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.#child = child;
    this.#exited = new Promise((done) => child.once('exit', () => done()));
    let out = '';
    const ready = new Promise<void>((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`Ferry did not start within ${START_TIMEOUT_MS} ms:\n${this.log}`)),
        START_TIMEOUT_MS,
      );
      const onData = (chunk: Buffer): void => {
        this.#log.push(chunk.toString());
        out = (out + chunk.toString()).slice(-4096);
        if (READY.test(out)) {
          clearTimeout(timer);
          done();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => this.#log.push(chunk.toString()));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(new Error(`Ferry exited (${signal ?? code}) before it was ready:\n${this.log}`));
      });
    });
    await ready;
  }
}
