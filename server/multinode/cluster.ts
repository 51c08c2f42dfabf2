/**
 * For the multi-node tests: real Ferry node processes (`npm start`'s entry point) sharing
 * one Postgres database, the test engines' Redis and one S3 bucket (or one storage
 * directory), behind HAProxy
 * running the repository's own deploy/haproxy.cfg, and nginx with deploy/nginx.conf when a
 * test asks (`startNginx`). Everything listens on 127.0.0.1 on free ports and is stopped by
 * `stop()` (and killed if the test process exits first). HAProxy and nginx are installed
 * from Debian when missing, as the other engines are.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ensureEngine } from '../test-engines/install.ts';
import { freePort } from '../test-engines/process.ts';
import type { S3Engine } from '../test-engines/s3.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = path.join(ROOT, 'server', 'main.ts');
export const HAPROXY_CONFIG = path.join(ROOT, 'deploy', 'haproxy.cfg');
export const NGINX_CONFIG = path.join(ROOT, 'deploy', 'nginx.conf');

/** One JSON log line of a node. */
export interface NodeLogEntry {
  msg: string;
  method?: string;
  route?: string;
  status?: number;
  [field: string]: unknown;
}

export class FerryNode {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly #env: NodeJS.ProcessEnv;
  #child: ChildProcess | undefined;
  #output = '';
  readonly #logs: NodeLogEntry[] = [];

  constructor(name: string, port: number, env: NodeJS.ProcessEnv) {
    this.name = name;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.#env = env;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Its JSON log lines so far (requests: method, route, status). */
  logs(): NodeLogEntry[] {
    return this.#logs;
  }

  /** Starts the process and resolves once it says it is listening. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: ROOT,
      env: { ...process.env, ...this.#env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    let pending = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          this.#output += `${line}\n`;
          if (line.includes('Ferry is running at')) resolve();
          if (!line.startsWith('{')) continue;
          try {
            this.#logs.push(JSON.parse(line) as NodeLogEntry);
          } catch {
            // not a log line
          }
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        this.#output += chunk.toString();
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`${this.name} exited (${code ?? signal}) before listening:\n${this.#output.slice(-4000)}`)),
      );
    });
  }

  /** SIGKILL: no shutdown, no unlock, as when a machine dies. */
  kill(): void {
    this.#child?.kill('SIGKILL');
  }

  /** SIGTERM and wait for the exit (SIGKILL after 10 s). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** What the process printed, for failure messages. */
  output(): string {
    return this.#output;
  }
}

export interface Cluster {
  /** The balancer: http://127.0.0.1:<port>. */
  url: string;
  nodes: FerryNode[];
  /** The storage directory the nodes share (FERRY_DATA_DIR). */
  dataDir: string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Where the ciphertext goes: a bucket on the test S3 engine; unset, the shared directory's files/. */
  s3?: { bucket: string; engine: S3Engine };
  /** The built client to serve (FERRY_DIST_DIR); an empty directory for API-only tests. */
  distDir?: string;
  /** More environment for every node. */
  env?: NodeJS.ProcessEnv;
  /** 1: one node behind the same balancer (both of its `server` lines name it), for comparisons. Default 2. */
  nodeCount?: 1 | 2;
}

/** Whether the balancer answers /health through a node. */
async function balancerAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts two nodes (or one) and HAProxy in front of them. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const haproxyBinary = ensureEngine({ debianPackage: 'haproxy', candidates: ['/usr/sbin/haproxy', 'haproxy'] });
  const scratch = mkdtempSync(path.join(tmpdir(), 'ferry-cluster-'));
  const dataDir = path.join(scratch, 'data');
  const distDir = options.distDir ?? path.join(scratch, 'dist');
  mkdirSync(dataDir);
  mkdirSync(distDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    HOST: '127.0.0.1',
    FERRY_DATA_DIR: dataDir,
    FERRY_DIST_DIR: distDir,
    FERRY_DATABASE_URL: options.databaseUrl,
    FERRY_REDIS_URL: options.redisUrl,
    FERRY_TRUSTED_PROXIES: '127.0.0.1',
    FERRY_ADMIN_TOKEN: 'multinode-test-admin-token-0123456789',
    FERRY_LOG_LEVEL: 'info',
    ...(options.s3 && {
      FERRY_S3_BUCKET: options.s3.bucket,
      FERRY_S3_ENDPOINT: options.s3.engine.endpoint,
      AWS_REGION: options.s3.engine.region,
      AWS_ACCESS_KEY_ID: options.s3.engine.accessKeyId,
      AWS_SECRET_ACCESS_KEY: options.s3.engine.secretAccessKey,
    }),
    ...options.env,
  };
  const nodes = [new FerryNode('node1', await freePort(), env)];
  if (options.nodeCount !== 1) nodes.push(new FerryNode('node2', await freePort(), env));
  const lbPort = await freePort();
  let haproxy: ChildProcess | undefined;
  let haproxyOutput = '';

  const stop = async () => {
    process.off('exit', killAll);
    haproxy?.kill('SIGTERM');
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(scratch, { recursive: true, force: true });
  };
  // A test run that ends without its teardown must leave no process behind.
  const killAll = () => {
    haproxy?.kill('SIGKILL');
    for (const node of nodes) node.kill();
  };
  process.on('exit', killAll);

  try {
    // One after the other: both migrate the same database at start-up.
    for (const node of nodes) await node.start();
    haproxy = spawn(haproxyBinary, ['-f', HAPROXY_CONFIG, '-db'], {
      env: {
        ...process.env,
        FERRY_LB_BIND: `127.0.0.1:${lbPort}`,
        FERRY_NODE_1: `127.0.0.1:${nodes[0]!.port}`,
        FERRY_NODE_2: `127.0.0.1:${(nodes[1] ?? nodes[0]!).port}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    haproxy.stdout!.on('data', (chunk: Buffer) => {
      haproxyOutput += chunk.toString();
    });
    haproxy.stderr!.on('data', (chunk: Buffer) => {
      haproxyOutput += chunk.toString();
    });
    const url = `http://127.0.0.1:${lbPort}`;
    const deadline = Date.now() + 15_000;
    while (!(await balancerAnswers(url))) {
      if (haproxy.exitCode !== null || Date.now() > deadline)
        throw new Error(`HAProxy did not answer on ${url}:\n${haproxyOutput}`);
      await sleep(50);
    }
    return { url, nodes, dataDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A second balancer in front of the same nodes. */
export interface Balancer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts nginx (Debian's `nginx-light`, installed when missing) with the repository's own
 * deploy/nginx.conf in front of `nodes`: the file is used as is but for its `listen` and
 * `server` lines, which name the test's ports, inside a minimal main config of its own.
 */
export async function startNginx(nodes: readonly FerryNode[]): Promise<Balancer> {
  const binary = ensureEngine({ debianPackage: 'nginx-light', candidates: ['/usr/sbin/nginx', 'nginx'] });
  const scratch = mkdtempSync(path.join(tmpdir(), 'ferry-nginx-'));
  const port = await freePort();
  const deployed = readFileSync(NGINX_CONFIG, 'utf8');
  const servers = /^ {4}server 10\.0\.0\.11:8080;\n {4}server 10\.0\.0\.12:8080;$/m;
  const listen = /^ {4}listen 80;$/m;
  if (!servers.test(deployed) || !listen.test(deployed))
    throw new Error(`${NGINX_CONFIG} no longer has the server and listen lines this test replaces`);
  const site = deployed
    .replace(servers, nodes.map((n) => `    server 127.0.0.1:${n.port};`).join('\n'))
    .replace(listen, `    listen 127.0.0.1:${port};`);
  writeFileSync(path.join(scratch, 'ferry.conf'), site);
  for (const dir of ['body', 'proxy']) mkdirSync(path.join(scratch, dir));
  writeFileSync(
    path.join(scratch, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      // Run as root by the tests, nginx would switch its worker to `nobody`, who cannot
      // enter this 0700 directory.
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      `pid ${scratch}/nginx.pid;`,
      `error_log ${scratch}/error.log warn;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${scratch}/body;`,
      `  proxy_temp_path ${scratch}/proxy;`,
      `  include ${scratch}/ferry.conf;`,
      '}',
    ].join('\n'),
  );
  const nginx = spawn(binary, ['-p', scratch, '-c', path.join(scratch, 'nginx.conf'), '-e', 'stderr'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  nginx.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  nginx.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const killAll = () => nginx.kill('SIGKILL');
  process.on('exit', killAll);
  const stop = async () => {
    process.off('exit', killAll);
    if (nginx.exitCode === null && nginx.signalCode === null) {
      const exited = new Promise<void>((resolve) => nginx.once('exit', () => resolve()));
      // SIGQUIT would wait for open WebSockets; the tests are done with them.
      nginx.kill('SIGTERM');
      await exited;
    }
    rmSync(scratch, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  while (!(await balancerAnswers(url))) {
    if (nginx.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not answer on ${url}:\n${output}`);
    }
    await sleep(50);
  }
  return { url, stop };
}
