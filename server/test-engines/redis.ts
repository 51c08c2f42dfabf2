/**
 * A throwaway Redis for tests, on a free loopback port, with nothing saved to disk; stop
 * ends that one child process and removes its directory. Debian's
 * `redis-server` is installed when missing (install.ts).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureEngine } from './install.ts';
import { freePort, scratchDir } from './process.ts';

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  stop(): void;
}

/** Whether something on `port` answers PING with PONG. */
async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Installs Redis if needed and starts an empty server; on `port` when given (a test that
 * stopped one starts it again where its clients look for it).
 */
export async function startRedis(port?: number): Promise<RedisServer> {
  const binary = ensureEngine({ debianPackage: 'redis-server', candidates: ['/usr/bin/redis-server', 'redis-server'] });
  const dir = scratchDir('ferry-redis-', undefined);
  port ??= await freePort();
  // A child of this process (not daemonized), so stopping it also reaps it.
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  let failed: string | undefined;
  const answers = port;
  child.once('exit', (code) => {
    failed = `redis-server exited (${code})`;
  });
  const deadline = Date.now() + 10_000;
  while (!(await answersPing(answers))) {
    if (failed || Date.now() > deadline) {
      child.kill();
      throw new Error(failed ?? `redis-server did not answer on 127.0.0.1:${answers}`);
    }
    await sleep(20);
  }

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stop);
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  return { url: `redis://127.0.0.1:${port}`, port, stop };
}
