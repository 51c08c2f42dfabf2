/**
 * `npm run bench:s3`: one file of BENCH_MB (1024) MiB uploaded through tus and downloaded
 * again, by a Ferry server keeping ciphertext in its files directory (the baseline) and by
 * one keeping it in S3 (Ceph radosgw on loopback, as the tests start it: single node, OSD
 * in memory). Runs interleave (file, S3, file, S3, BENCH_RUNS per side); the upload is
 * POST then PATCHes of 8 MiB read from disk, as the web client sends them; the download is
 * one ticketed GET, hashed and compared with the source. Printed: MB/s of each (medians),
 * the ratio S3 : file in this run, and each server's peak RSS (memory per upload stays
 * bounded: S3 pieces are staged through temp files). A third baseline, `s3 raw`, is the
 * same 8 MiB pieces PUT straight into the bucket with the AWS SDK and read back with one
 * GetObject each, no Ferry: what this S3 server gives on its own.
 *
 * BENCH_S3_BEFORE=<git revision> adds `s3 before`: the same S3 upload and download by a
 * server built from that revision's sources (a `git archive` snapshot), interleaved with
 * the others, so a change to the S3 store is measured before and after in one run.
 *
 * Everything is on one 2-core machine: the S3 server (mon, OSD, radosgw) competes with
 * Ferry and the client for CPU, so the ratio is a floor for a real S3 elsewhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { emptyBucket, startS3, testS3Client } from '../server/test-engines/s3.ts';
import type { CreateShareResponse } from '../shared/api.ts';
import { tokenHash } from '../shared/keys.ts';
import { onCleanUp, runMain } from './lib/cleanup.ts';
import { writeRandomFile } from './lib/files.ts';
import { BenchServer, PeakSampler } from './lib/server.ts';
import { sourceTree } from './lib/source.ts';
import { intEnv, MiB, mbps, median } from './lib/stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BYTES = intEnv('BENCH_MB', 1024) * MiB;
const RUNS = intEnv('BENCH_RUNS', 2);
/** The web client's tus chunk (client/lib/transfer/send/picker.svelte.ts). */
const CHUNK = 8 * MiB;

const BEFORE = process.env.BENCH_S3_BEFORE;

type Kind = 'file' | 's3' | 's3 before' | 's3 raw';
interface Run {
  kind: Kind;
  uploadMBps: number;
  downloadMBps: number;
  rssPeak: number;
}

async function json<T>(response: Response, status: number, what: string): Promise<T> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** Creates a share of one file, uploads `source` into it (8 MiB PATCHes), downloads it; times both. */
async function transfer(origin: string, source: string, sha: string): Promise<{ upMs: number; downMs: number }> {
  const readerToken = randomBytes(32).toString('base64url');
  const share = await json<CreateShareResponse>(
    await fetch(`${origin}/api/shares`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        readerHash: await tokenHash(readerToken),
        expiresInSeconds: 3600,
        maxDownloads: null,
        password: null,
        manifest: randomBytes(48).toString('base64url'),
        files: [{ size: BYTES }],
      }),
    }),
    201,
    'create share',
  );
  const auth = { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${share.uploadToken}` };
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const started = performance.now();
  const created = await fetch(`${origin}/files/`, {
    method: 'POST',
    headers: { ...auth, 'Upload-Length': String(BYTES), 'Upload-Metadata': `share ${b64(share.id)},index ${b64('0')}` },
  });
  await json(created, 201, 'tus POST');
  const location = new URL(created.headers.get('location') ?? '', origin);
  const file = await open(source, 'r');
  try {
    const chunk = Buffer.alloc(CHUNK);
    for (let offset = 0; offset < BYTES; ) {
      const { bytesRead } = await file.read(chunk, 0, Math.min(CHUNK, BYTES - offset), offset);
      const patch = await fetch(location, {
        method: 'PATCH',
        headers: { ...auth, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
        body: chunk.subarray(0, bytesRead),
      });
      await json(patch, 204, `PATCH at ${offset}`);
      offset += bytesRead;
    }
  } finally {
    await file.close();
  }
  const upMs = performance.now() - started;

  const reader = { Authorization: `Bearer ${readerToken}` };
  const { ticket } = await json<{ ticket: string }>(
    await fetch(`${origin}/api/shares/${share.id}/downloads`, {
      method: 'POST',
      headers: { ...reader, 'Content-Type': 'application/json' },
      body: JSON.stringify({ files: [0] }),
    }),
    201,
    'ticket',
  );
  const downStarted = performance.now();
  const response = await fetch(`${origin}/api/shares/${share.id}/files/0`, {
    headers: { ...reader, 'Ferry-Ticket': ticket },
  });
  if (response.status !== 200 || !response.body) throw new Error(`download: ${response.status}`);
  const hash = createHash('sha256');
  let received = 0;
  for await (const part of response.body) {
    hash.update(part);
    received += part.length;
  }
  const downMs = performance.now() - downStarted;
  if (received !== BYTES || hash.digest('hex') !== sha) throw new Error(`download differs (${received} bytes)`);
  return { upMs, downMs };
}

/** The `s3 raw` baseline: 8 MiB PutObjects of the source, then a GetObject of each, hashed. */
async function rawS3(client: S3Client, bucket: string, source: string, sha: string) {
  const started = performance.now();
  const keys: string[] = [];
  const file = await open(source, 'r');
  try {
    const chunk = Buffer.alloc(CHUNK);
    for (let offset = 0; offset < BYTES; offset += CHUNK) {
      const { bytesRead } = await file.read(chunk, 0, Math.min(CHUNK, BYTES - offset), offset);
      const Key = `raw/${String(offset).padStart(16, '0')}`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: chunk.subarray(0, bytesRead) }));
      keys.push(Key);
    }
  } finally {
    await file.close();
  }
  const upMs = performance.now() - started;
  const downStarted = performance.now();
  const hash = createHash('sha256');
  for (const Key of keys) {
    const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key }));
    for await (const part of answer.Body as AsyncIterable<Buffer>) hash.update(part);
  }
  const downMs = performance.now() - downStarted;
  if (hash.digest('hex') !== sha) throw new Error('raw S3 read back other bytes');
  return { upMs, downMs };
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'ferry-bench-s3-'));
  onCleanUp(() => rm(work, { recursive: true, force: true }));
  const source = join(work, 'source.bin');
  const sha = await writeRandomFile(source, BYTES, 0x5eed);

  let started = Date.now();
  const s3 = await startS3();
  onCleanUp(async () => s3.stop());
  console.log(`S3 (Ceph radosgw) ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const bucket = 'ferry-bench';
  const client = testS3Client(s3);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  onCleanUp(async () => {
    await emptyBucket(client, bucket);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    client.destroy();
  });

  const before = BEFORE ? sourceTree(ROOT, work, { revision: BEFORE }, ['serve.ts']) : undefined;
  if (before) console.log(`s3 before: the server at ${before.label}`);
  const kinds = before ? (['file', 's3 before', 's3'] as const) : (['file', 's3'] as const);
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const raw = await rawS3(client, bucket, source, sha);
    runs.push({ kind: 's3 raw', uploadMBps: mbps(BYTES, raw.upMs), downloadMBps: mbps(BYTES, raw.downMs), rssPeak: 0 });
    console.log(
      `s3 raw upload ${mbps(BYTES, raw.upMs).toFixed(1)} MB/s, download ${mbps(BYTES, raw.downMs).toFixed(1)} MB/s`,
    );
    await emptyBucket(client, bucket);
    for (const kind of kinds) {
      const dataDir = await mkdtemp(join(work, `data-${kind.replace(' ', '-')}-`));
      const env: Record<string, string> =
        kind !== 'file'
          ? {
              FERRY_S3_BUCKET: bucket,
              FERRY_S3_ENDPOINT: s3.endpoint,
              AWS_ACCESS_KEY_ID: s3.accessKeyId,
              AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
              AWS_REGION: s3.region,
            }
          : {};
      started = Date.now();
      const root = kind === 's3 before' && before ? before.root : ROOT;
      const server = await BenchServer.start(root, work, dataDir, { ...env, FERRY_LOG_LEVEL: 'warn' });
      const rss = new PeakSampler(() => server.rss());
      try {
        const { upMs, downMs } = await transfer(server.origin, source, sha);
        const run = { kind, uploadMBps: mbps(BYTES, upMs), downloadMBps: mbps(BYTES, downMs), rssPeak: rss.stop() };
        runs.push(run);
        console.log(
          `${kind.padEnd(9)} upload ${run.uploadMBps.toFixed(1)} MB/s, download ${run.downloadMBps.toFixed(1)} MB/s, server RSS peak ${(run.rssPeak / MiB).toFixed(0)} MiB`,
        );
      } finally {
        rss.stop();
        await server.stop();
        await rm(dataDir, { recursive: true, force: true });
        if (kind !== 'file') await emptyBucket(client, bucket);
      }
    }
  }
  const of = (kind: Kind, key: 'uploadMBps' | 'downloadMBps' | 'rssPeak') =>
    median(runs.filter((r) => r.kind === kind).map((r) => r[key]));
  console.log(`\n${BYTES / MiB} MiB, ${RUNS} runs per side, medians`);
  console.log('| store | upload MB/s | download MB/s | server RSS peak |');
  console.log('| --- | --- | --- | --- |');
  for (const kind of [...kinds, 's3 raw'] as const) {
    console.log(
      `| ${kind} | ${of(kind, 'uploadMBps').toFixed(1)} | ${of(kind, 'downloadMBps').toFixed(1)} | ${kind === 's3 raw' ? '' : `${(of(kind, 'rssPeak') / MiB).toFixed(0)} MiB`} |`,
    );
  }
  console.log(
    `| S3 : file | ${(of('s3', 'uploadMBps') / of('file', 'uploadMBps')).toFixed(2)} | ${(of('s3', 'downloadMBps') / of('file', 'downloadMBps')).toFixed(2)} | |`,
  );
  if (before) {
    console.log(
      `| S3 before : file | ${(of('s3 before', 'uploadMBps') / of('file', 'uploadMBps')).toFixed(2)} | ${(of('s3 before', 'downloadMBps') / of('file', 'downloadMBps')).toFixed(2)} | |`,
    );
  }
  console.log(
    `| S3 : S3 raw | ${(of('s3', 'uploadMBps') / of('s3 raw', 'uploadMBps')).toFixed(2)} | ${(of('s3', 'downloadMBps') / of('s3 raw', 'downloadMBps')).toFixed(2)} | |`,
  );
}

await runMain(main);
