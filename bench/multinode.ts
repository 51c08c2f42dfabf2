/**
 * `npm run bench:multinode`: bench/load.ts's load (BENCH_UPLOADS concurrent uploads of
 * BENCH_UPLOAD_KIB, BENCH_SOCKETS signaling sockets relaying) against one Ferry node and
 * then against two, each time behind HAProxy running deploy/haproxy.cfg, on the engines a
 * deployment of several nodes uses: a Postgres database and an S3 bucket (Ceph radosgw, its
 * OSD in memory), a new one of each per round, and Redis (server/test-engines starts them
 * on loopback, installing Debian's packages when missing). Prints each round's output and
 * the two-node : one-node ratios of upload throughput and of p99 latencies, and the errors
 * (goal 0).
 *
 * Everything runs on this machine's cores, the load generator included: two nodes on
 * 2 cores share the CPU that one node had to itself, so the ratio says what a second
 * node costs or gains here, not what a second machine would add.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { type NodeLogEntry, startCluster } from '../server/multinode/cluster.ts';
import { startPostgres } from '../server/test-engines/postgres.ts';
import { startRedis } from '../server/test-engines/redis.ts';
import { emptyBucket, type S3Engine, startS3, testS3Client } from '../server/test-engines/s3.ts';
import { onCleanUp, runMain } from './lib/cleanup.ts';

const ROOT = resolve(import.meta.dirname, '..');

interface Figures {
  output: string;
  ferryMiBs: number;
  uploadP99: number;
  apiP99: number;
  relayP99: number;
  errors: number;
}

/** Runs bench/load.ts against `origin`; its output and the figures read from it. */
function runLoad(origin: string): Promise<Figures> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'bench/load.ts')], {
    cwd: ROOT,
    env: { ...process.env, BENCH_TARGET: origin },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
  });
  return new Promise((done) => {
    child.on('exit', () => {
      const number = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? Number.NaN);
      done({
        output,
        ferryMiBs: number(/Ferry\s+([\d.]+) MiB\/s/),
        uploadP99: number(/tus POST\+PATCH p50 \d+ ms p99 (\d+) ms/),
        apiP99: number(/\/api \(create, complete\) p50 \d+ ms p99 (\d+) ms/),
        relayP99: number(/round trips \d+ of \d+, p50 \d+ ms p99 (\d+) ms/),
        errors: number(/errors in all: (\d+)/),
      });
    });
  });
}

async function newDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The nodes' warnings and errors (FERRY_LOG_LEVEL=warn), counted by message: what a failure was. */
function printNodeWarnings(entries: NodeLogEntry[]): void {
  const counts = new Map<string, number>();
  for (const entry of entries) {
    const err = (entry.err ?? entry.error) as { message?: string } | undefined;
    const what = `${entry.msg}${err?.message ? `: ${err.message.slice(0, 160)}` : ''}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  if (counts.size === 0) return;
  console.log('  nodes logged (warn and above):');
  for (const [what, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`    ${n} × ${what}`);
}

interface Engines {
  postgres: string;
  redisUrl: string;
  s3: S3Engine;
}

async function round(nodeCount: 1 | 2, engines: Engines): Promise<Figures> {
  const name = `ferry-bench-${nodeCount}-${Date.now()}`;
  const databaseUrl = await newDatabase(engines.postgres, name.replaceAll('-', '_'));
  const s3 = testS3Client(engines.s3);
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  try {
    const cluster = await startCluster({
      databaseUrl,
      redisUrl: engines.redisUrl,
      s3: { bucket: name, engine: engines.s3 },
      nodeCount,
      env: { FERRY_LOG_LEVEL: 'warn', FERRY_BENCH_SINK: '1', FERRY_TRUSTED_PROXIES: '127.0.0.1,::1' },
    });
    try {
      console.log(`\n=== ${nodeCount} node${nodeCount === 1 ? '' : 's'} behind HAProxy at ${cluster.url}, S3 ===`);
      const figures = await runLoad(cluster.url);
      printNodeWarnings(cluster.nodes.flatMap((node) => node.logs()));
      return figures;
    } finally {
      await cluster.stop();
    }
  } finally {
    // The OSD keeps objects in memory: free them before the next round.
    await emptyBucket(s3, name);
    await s3.send(new DeleteBucketCommand({ Bucket: name }));
    s3.destroy();
  }
}

async function main(): Promise<void> {
  const postgres = await startPostgres();
  onCleanUp(async () => postgres.stop());
  const redis = await startRedis();
  onCleanUp(async () => redis.stop());
  const s3 = await startS3();
  onCleanUp(async () => s3.stop());
  const engines = { postgres: postgres.url, redisUrl: redis.url, s3 };
  const one = await round(1, engines);
  const two = await round(2, engines);
  const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : '-');
  console.log('\n=== two nodes : one node (same balancer, engines and load) ===');
  console.log(`  upload throughput ${two.ferryMiBs} / ${one.ferryMiBs} MiB/s = ${ratio(two.ferryMiBs, one.ferryMiBs)}`);
  console.log(`  upload p99        ${two.uploadP99} / ${one.uploadP99} ms = ${ratio(two.uploadP99, one.uploadP99)}`);
  console.log(`  API p99           ${two.apiP99} / ${one.apiP99} ms = ${ratio(two.apiP99, one.apiP99)}`);
  console.log(`  relay p99         ${two.relayP99} / ${one.relayP99} ms = ${ratio(two.relayP99, one.relayP99)}`);
  console.log(`  errors            one node ${one.errors}, two nodes ${two.errors} (goal 0)`);
  if (one.errors + two.errors > 0 || !Number.isFinite(one.errors + two.errors)) process.exitCode = 1;
}

await runMain(main);
