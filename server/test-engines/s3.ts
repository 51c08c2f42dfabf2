/**
 * A throwaway S3 server for tests: Ceph radosgw, single node, on free loopback ports, its
 * one OSD in memory (memstore), authentication off between the daemons, every file in a
 * scratch directory. Stop kills the three daemons (children of this process, run in the
 * foreground) and removes the directory; nothing outlives the run. The facts behind
 * ceph.conf are in ../shared/STACK-NOTES.md ("Engines for running several nodes").
 * Debian's ceph-mon, ceph-osd and radosgw are installed when missing (install.ts).
 *
 * Steps: monmap with one v1 monitor → mon --mkfs → mon → `ceph osd new` + crush placement →
 * osd --mkfs → osd → radosgw (which makes its pools once the OSD is up) → an S3 user with
 * fixed keys. About 2.5 s here (with the monitor's default 1 s proposal interval, 12 s:
 * radosgw makes its pools one map change at a time).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ensureEngine } from './install.ts';
import { freePort, scratchDir } from './process.ts';

/** What a test needs to reach the server (path-style addressing). */
export interface S3Engine {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3Server extends S3Engine {
  stop(): void;
}

const run = promisify(execFile);
/** How long each step may take before start-up gives up (a stuck daemon never answers). */
const STEP_TIMEOUT_MS = 60_000;

function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = v1:127.0.0.1:${monPort}
auth cluster required = none
auth service required = none
auth client required = none
# v1 only, IPv4 only, on loopback: a v2 monitor address makes the OSD retry sockets forever.
ms bind msgr2 = false
ms bind ipv6 = false
public addr = 127.0.0.1
cluster addr = 127.0.0.1
osd objectstore = memstore
# A cap, not an allocation: memory holds only what is stored. When the OSD is full every
# write (deletes too) waits forever.
memstore device bytes = 8589934592
# Else the OSD places itself (and its device class) at start and fails with "wrong fsid";
# start-up places it.
osd crush update on start = false
osd class update on start = false
osd crush chooseleaf type = 0
mon data avail crit = 0
mon data avail warn = 0
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
# Each map change (radosgw makes pools one by one) waits for the next proposal: 1 s by default.
paxos propose interval = 0.01
paxos min wait = 0.001
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
mon cluster log file = ${dir}/log/cluster.log
mon data = ${dir}/mon
osd data = ${dir}/osd
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
# Deleted objects' data goes at once, not after radosgw's 2-hour garbage-collection delay
# (else a run that writes and deletes gigabytes fills the in-memory OSD).
rgw gc obj min wait = 0
rgw gc processor period = 2
rgw dns name = 127.0.0.1
`;
}

/** Whether anything answers HTTP on the port (radosgw answers / once its pools exist). */
async function answersHttp(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** The last lines of a daemon's log, for the reason a start-up failed. */
function logTail(dir: string, name: string): string {
  try {
    const lines = readFileSync(path.join(dir, 'log', `${name}.log`), 'utf8')
      .trim()
      .split('\n');
    return lines.slice(-5).join(' | ');
  } catch {
    return 'no log';
  }
}

/** Installs Ceph if needed and starts mon, osd and radosgw with an S3 user. */
export async function startS3(): Promise<S3Server> {
  const monBinary = ensureEngine({ debianPackage: 'ceph-mon', candidates: ['/usr/bin/ceph-mon', 'ceph-mon'] });
  const osdBinary = ensureEngine({ debianPackage: 'ceph-osd', candidates: ['/usr/bin/ceph-osd', 'ceph-osd'] });
  const rgwBinary = ensureEngine({ debianPackage: 'radosgw', candidates: ['/usr/bin/radosgw', 'radosgw'] });
  const bin = path.dirname(monBinary);
  const dir = scratchDir('ferry-s3-', undefined);
  for (const sub of ['run', 'log', 'mon', 'osd', 'rgw']) mkdirSync(path.join(dir, sub));
  const conf = path.join(dir, 'ceph.conf');
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const fsid = randomUUID();
  writeFileSync(conf, cephConf(dir, fsid, monPort, rgwPort));

  const children: ChildProcess[] = [];
  let failed: string | undefined;
  const daemon = (binary: string, args: string[]) => {
    const child = spawn(binary, ['-f', '-c', conf, ...args], { stdio: 'ignore' });
    child.once('exit', (code, signal) => {
      failed ??= `${path.basename(binary)} exited (${code ?? signal})`;
    });
    children.push(child);
  };
  const step = (command: string, args: string[]) =>
    run(path.join(bin, command), ['-c', conf, ...args], { timeout: STEP_TIMEOUT_MS });

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stop);
    // Everything is in memory or in the directory: nothing to shut down gracefully.
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);

  try {
    await run(path.join(bin, 'monmaptool'), [
      '--create',
      '--addv',
      'a',
      `[v1:127.0.0.1:${monPort}]`,
      '--fsid',
      fsid,
      path.join(dir, 'monmap'),
    ]);
    await step('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', path.join(dir, 'monmap')]);
    daemon(monBinary, ['-i', 'a']);
    const osdUuid = randomUUID();
    const { stdout: osdId } = await step('ceph', ['--connect-timeout', '30', 'osd', 'new', osdUuid]);
    await step('ceph', ['osd', 'crush', 'add', `osd.${osdId.trim()}`, '1.0', 'root=default']);
    await step('ceph-osd', ['-i', osdId.trim(), '--mkfs', '--osd-uuid', osdUuid]);
    daemon(osdBinary, ['-i', osdId.trim()]);
    daemon(rgwBinary, ['-n', 'client.rgw']);
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (!(await answersHttp(rgwPort))) {
      if (failed || Date.now() > deadline) {
        throw new Error(
          `${failed ?? `radosgw did not answer on 127.0.0.1:${rgwPort}`} (osd: ${logTail(dir, 'osd.0')}; rgw: ${logTail(dir, 'client.rgw')})`,
        );
      }
      await sleep(100);
    }
    const accessKeyId = `FERRY${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(24).toString('base64url');
    await step('radosgw-admin', [
      'user',
      'create',
      '--uid',
      'ferry-tests',
      '--display-name',
      'Ferry tests',
      '--access-key',
      accessKeyId,
      '--secret-key',
      secretAccessKey,
    ]);
    return { endpoint: `http://127.0.0.1:${rgwPort}`, region: 'us-east-1', accessKeyId, secretAccessKey, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

/** A client for the engine, as S3BlobStore makes one (path-style, no optional checksums). */
export function testS3Client(s3: S3Engine): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Deletes every object in `bucket` (not the bucket). */
export async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length === 0) return;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
}
