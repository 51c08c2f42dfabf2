/**
 * coturn (`turnserver`, Debian package `coturn`; `node e2e/ensure-coturn.mjs` installs it)
 * as a child process on a free loopback port, with the TURN REST shared secret Ferry signs
 * credentials with (FERRY_TURN_SECRET). Loopback relaying needs `--allow-loopback-peers`
 * (coturn 4.6 refuses 127.x peers otherwise). `-n` ignores /etc/turnserver.conf; the pid
 * file and the user database go to a temporary directory, so nothing system-wide is touched.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestInfo } from '@playwright/test';
import { freePort } from './server.ts';

const START_TIMEOUT_MS = 15_000;

/** The `turnserver` to run, or null when coturn is not installed. */
export function turnserverPath(): string | null {
  if (process.env.TURNSERVER_PATH) return process.env.TURNSERVER_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v turnserver'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export class Coturn {
  readonly port: number;
  readonly secret: string;
  readonly #dir: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #log: string[] = [];

  private constructor(port: number, secret: string, dir: string, child: ChildProcess) {
    this.port = port;
    this.secret = secret;
    this.#dir = dir;
    this.#child = child;
    this.#exited = new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) done();
      else child.once('exit', () => done());
    });
    child.stdout?.on('data', (chunk: Buffer) => this.#log.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.#log.push(chunk.toString()));
  }

  /** Starts coturn on 127.0.0.1 and resolves once its TURN port accepts connections. */
  static async start(): Promise<Coturn> {
    const binary = turnserverPath();
    if (!binary) {
      throw new Error('coturn is not installed: run `node e2e/ensure-coturn.mjs` (as root) or set TURNSERVER_PATH');
    }
    const port = await freePort();
    const secret = randomBytes(18).toString('base64url');
    const dir = await mkdtemp(join(tmpdir(), 'ferry-e2e-coturn-'));
    const child = spawn(
      binary,
      [
        '-n',
        `--listening-port=${port}`,
        '--listening-ip=127.0.0.1',
        '--relay-ip=127.0.0.1',
        '--use-auth-secret',
        `--static-auth-secret=${secret}`,
        '--realm=ferry.test',
        '--allow-loopback-peers',
        '--no-cli',
        '--no-tls',
        '--no-dtls',
        '--no-software-attribute',
        '--fingerprint',
        '--verbose',
        // A file, not stdout: coturn's stdout through a pipe is block-buffered.
        `--log-file=${join(dir, 'turn.log')}`,
        '--simple-log',
        '--no-stdout-log',
        `--pidfile=${join(dir, 'turnserver.pid')}`,
        `--userdb=${join(dir, 'turndb')}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const coturn = new Coturn(port, secret, dir, child);
    try {
      await coturn.#ready();
    } catch (error) {
      await coturn.stop();
      throw error;
    }
    return coturn;
  }

  /** What to give the Ferry server so that browsers use this TURN server and nothing else. */
  get ferryEnv(): Record<string, string> {
    return {
      FERRY_TURN_URLS: `turn:127.0.0.1:${this.port}?transport=udp`,
      FERRY_TURN_SECRET: this.secret,
      FERRY_ICE_TRANSPORT_POLICY: 'relay',
    };
  }

  /** coturn's log so far (its log file, then anything it printed). */
  async log(): Promise<string> {
    const file = await readFile(join(this.#dir, 'turn.log'), 'utf8').catch(() => '');
    return file + this.#log.join('');
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Stops coturn (SIGTERM, then SIGKILL after 5 s) and removes its temporary directory. */
  async stop(): Promise<void> {
    if (this.running) {
      this.#child.kill('SIGTERM');
      const killer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(killer);
    }
    await rm(this.#dir, { recursive: true, force: true });
  }

  async #ready(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`turnserver exited before it was ready:\n${await this.log()}`);
      // coturn also listens on TCP on the TURN port; accepting a connection means it is up.
      if (await accepts(this.port)) return;
      await new Promise((done) => setTimeout(done, 100));
    }
    throw new Error(
      `turnserver did not listen on 127.0.0.1:${this.port} within ${START_TIMEOUT_MS} ms:\n${await this.log()}`,
    );
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/**
 * A Playwright fixture's body: coturn for one test, stopped afterwards even when the test
 * fails (its log then attached).
 */
export async function useCoturn(use: (coturn: Coturn) => Promise<void>, testInfo: TestInfo): Promise<void> {
  const coturn = await Coturn.start();
  try {
    await use(coturn);
  } finally {
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('coturn.log', { body: await coturn.log(), contentType: 'text/plain' });
    }
    await coturn.stop();
  }
}
