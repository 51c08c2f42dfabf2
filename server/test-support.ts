/** Helpers for the server tests: a real server on port 0 with a temp data dir and a fake clock. */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Upload } from 'tus-js-client';
import { afterAll, beforeAll } from 'vitest';
import type { CreateShareRequest, CreateShareResponse } from '../shared/api.ts';
import { tokenHash } from '../shared/keys.ts';
import { createFerryServer, type FerryServer } from './app.ts';
import type { FerryConfig } from './config.ts';
import { createLogger, type LogLevel } from './log.ts';
import { S3_START_TIMEOUT_MS, s3Buckets } from './test-engines/s3-buckets.ts';

export interface TestServer extends FerryServer {
  dataDir: string;
  clock: { now: number; advance(ms: number): void };
  stop(): Promise<void>;
}

export async function startTestServer(overrides: Partial<FerryConfig> = {}, dataDir?: string): Promise<TestServer> {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'ferry-test-'));
  const clock = {
    now: Date.now(),
    advance(ms: number) {
      clock.now += ms;
    },
  };
  const ferry = await createFerryServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: dir,
    distDir: path.join(dir, 'dist'),
    sweepIntervalMs: 3_600_000,
    createRate: { burst: 1000, perMinute: 1000 },
    tickets: {
      perClient: { burst: 1000, perMinute: 1000 },
      perShare: { burst: 1000, perMinute: 1000 },
      maxOpenPerShare: 1000,
    },
    now: () => clock.now,
    logger: createLogger({ level: 'silent' }),
    ...overrides,
  });
  return Object.assign(ferry, {
    dataDir: dir,
    clock,
    async stop() {
      await ferry.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface FerryProcess {
  child: ChildProcess;
  url: string;
  /** stdout and stderr so far. */
  output(): string;
}

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/**
 * Runs `npm start`'s entry point as a real process on a free loopback port (`env` added to
 * this process's) and waits for its URL; rejects with its output when it exits first.
 * The caller kills it.
 */
export function spawnFerry(dataDir: string, env: Record<string, string> = {}): Promise<FerryProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--port', '0', '--host', '127.0.0.1', '--data', dataDir],
    { env: { ...process.env, FERRY_SKIP_BUILD: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Ferry is running at (http:\/\/localhost:\d+)/.exec(out);
      if (match) resolve({ child, url: match[1]!, output: () => out });
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
}

/**
 * Runs `npm start`'s entry point with `env` added, expecting it to fail; answers its exit
 * code and stderr (undefined when it started after all).
 */
export async function failedStart(
  env: Record<string, string>,
): Promise<{ code?: number; stderr?: string } | undefined> {
  const run = promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, '--port', '0'], {
    env: { ...process.env, FERRY_SKIP_BUILD: '1', ...env },
    timeout: 60_000,
  });
  return run.then(
    () => undefined,
    (error: { code?: number; stderr?: string }) => error,
  );
}

/** One parsed log line: pino's fields plus whatever the call added. */
export interface LogEntry {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A logger (for a test server's `logger`) that keeps every line it writes, parsed. */
export function capturedLogger(level: LogLevel = 'info') {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void lines.push(line) } });
  const entries = () => lines.map((line) => JSON.parse(line) as LogEntry);
  return {
    logger,
    /** The raw text written so far. */
    text: () => lines.join(''),
    entries,
    /** The `msg` of every line so far. */
    messages: () => entries().map((entry) => entry.msg),
  };
}

/** Where a test server keeps ciphertext: data/files, or a new bucket on the run's S3 engine. */
export type BlobBackend = 'file' | 's3';
/** Both, for suites that read running uploads: `describe.each(BLOB_BACKENDS)`. */
export const BLOB_BACKENDS: readonly BlobBackend[] = ['file', 's3'];

/**
 * One test server for the calling test file (or describe block): started before its tests,
 * stopped after them. Call the answer inside a test (or a hook) to get it. With `s3`, its
 * uploads go to a new bucket (deleted after the file).
 */
export function serverForFile(overrides: Partial<FerryConfig> = {}, blobs: BlobBackend = 'file'): () => TestServer {
  let server: TestServer | undefined;
  const newBucket = blobs === 's3' ? s3Buckets() : undefined;
  beforeAll(
    async () => {
      let s3: FerryConfig['s3'] = null;
      if (newBucket) {
        const { bucket, s3: engine } = await newBucket();
        const { endpoint, region, accessKeyId, secretAccessKey } = engine;
        s3 = { bucket, endpoint, region, credentials: { accessKeyId, secretAccessKey } };
      }
      server = await startTestServer({ s3, ...overrides });
    },
    newBucket ? S3_START_TIMEOUT_MS : undefined,
  );
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('The test server runs only while the tests of this file do.');
    return server;
  };
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  json: unknown;
  text: string;
}

/** One API call; `token` becomes `Authorization: Bearer`. */
export async function api(
  base: string,
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + url, {
    method,
    headers,
    ...(opts.body !== undefined && { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export function errorCode(answer: ApiAnswer): string | undefined {
  return (answer.json as { error?: { code?: string } } | undefined)?.error?.code;
}

export interface TestShare extends CreateShareResponse {
  readerToken: string;
}

/** A manifest-shaped opaque string: the server only stores it. */
export const FAKE_MANIFEST = randomBytes(48).toString('base64url');

/** A share creation body for `files`, with a fresh reader token (returned beside it). */
export async function newShareBody(
  files: CreateShareRequest['files'],
  extra: Partial<CreateShareRequest> = {},
): Promise<{ body: CreateShareRequest; readerToken: string }> {
  const readerToken = randomBytes(32).toString('base64url');
  const body: CreateShareRequest = {
    readerHash: await tokenHash(readerToken),
    expiresInSeconds: 3600,
    maxDownloads: null,
    password: null,
    manifest: FAKE_MANIFEST,
    files,
    ...extra,
  };
  return { body, readerToken };
}

export async function createTestShare(
  base: string,
  files: CreateShareRequest['files'],
  extra: Partial<CreateShareRequest> = {},
): Promise<TestShare> {
  const { body, readerToken } = await newShareBody(files, extra);
  const answer = await api(base, 'POST', '/api/shares', { body });
  if (answer.status !== 201) throw new Error(`create share: ${answer.status} ${answer.text}`);
  return { ...(answer.json as CreateShareResponse), readerToken };
}

/** One tus PATCH of `bytes` at `offset` to `location` (/files/<id>), as the share's uploader. */
export function tusPatch(
  base: string,
  share: TestShare,
  location: string,
  offset: number,
  bytes: Buffer,
): Promise<Response> {
  return fetch(new URL(location, base), {
    method: 'PATCH',
    headers: {
      'Tus-Resumable': '1.0.0',
      Authorization: `Bearer ${share.uploadToken}`,
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
    },
    body: new Uint8Array(bytes),
  });
}

/** Uploads `bytes` as file `index` with tus-js-client; resolves with the upload URL. */
export function tusUpload(
  base: string,
  share: { id: string; uploadToken: string },
  index: number,
  bytes: Buffer,
  opts: { uploadUrl?: string; chunkSize?: number; onProgress?: (sent: number) => void } = {},
): { promise: Promise<string>; upload: Upload } {
  let upload!: Upload;
  const promise = new Promise<string>((resolve, reject) => {
    upload = new Upload(bytes, {
      endpoint: `${base}/files/`,
      ...(opts.uploadUrl && { uploadUrl: opts.uploadUrl }),
      headers: { Authorization: `Bearer ${share.uploadToken}` },
      metadata: { share: share.id, index: String(index) },
      ...(opts.chunkSize && { chunkSize: opts.chunkSize }),
      retryDelays: null,
      storeFingerprintForResuming: false,
      onProgress: (sent) => opts.onProgress?.(sent),
      onError: reject,
      onSuccess: () => resolve(upload.url ?? ''),
    });
    upload.start();
  });
  return { promise, upload };
}

export async function uploadAndComplete(base: string, share: TestShare, files: Buffer[]): Promise<void> {
  for (const [i, bytes] of files.entries()) await tusUpload(base, share, i, bytes).promise;
  const done = await api(base, 'PATCH', `/api/shares/${share.id}`, {
    token: share.ownerToken,
    body: { complete: true },
  });
  if (done.status !== 200) throw new Error(`complete: ${done.status} ${done.text}`);
}

export async function ticketFor(base: string, share: TestShare, files: number[]): Promise<ApiAnswer> {
  return api(base, 'POST', `/api/shares/${share.id}/downloads`, { token: share.readerToken, body: { files } });
}

export async function fetchFile(
  base: string,
  share: TestShare,
  index: number,
  ticket: string,
  range?: string,
): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const headers: Record<string, string> = { Authorization: `Bearer ${share.readerToken}`, 'Ferry-Ticket': ticket };
  if (range) headers.Range = range;
  const res = await fetch(`${base}/api/shares/${share.id}/files/${index}`, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** tus headers for `share`'s uploads. */
export const tusHeaders = (share: { uploadToken: string }) => ({
  'Tus-Resumable': '1.0.0',
  Authorization: `Bearer ${share.uploadToken}`,
});

/**
 * A tus PATCH of `bytes` at `offset` to `uploadUrl` on a connection of its own that sends
 * `first` bytes, then awaits `between` (which fills the disk, or lets another PATCH start),
 * then sends the rest. Resolves with the answer's status and error code.
 */
export function patchInTwoParts(
  uploadUrl: string,
  share: { uploadToken: string },
  offset: number,
  bytes: Buffer,
  first: number,
  between: () => Promise<unknown>,
): Promise<{ status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(uploadUrl, {
      method: 'PATCH',
      agent: false,
      headers: {
        ...tusHeaders(share),
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream',
        'Content-Length': String(bytes.length),
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => {
        let code: string | undefined;
        try {
          code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
        } catch {
          code = undefined;
        }
        resolve({ status: res.statusCode ?? 0, code });
      });
    });
    // The server may answer (and close) before the whole body is written.
    req.on('error', (error) => {
      if (!req.writableEnded) return;
      reject(error);
    });
    req.write(bytes.subarray(0, first));
    between().then(
      () => req.end(bytes.subarray(first)),
      (error: unknown) => reject(error),
    );
  });
}

/** A tmpfs mounted for a test (mounting needs root, as in CI); `unmount()` in the teardown. */
export interface Tmpfs {
  dir: string;
  /** Makes the file system read-only (`true`) or writable again. */
  setReadOnly(readOnly: boolean): void;
  unmount(): void;
}

/** Mounts a tmpfs of `bytes` at `dir` (a new temp dir when omitted). */
export function mountTmpfs(bytes: number, dir = mkdtempSync(path.join(tmpdir(), 'ferry-tmpfs-'))): Tmpfs {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  return {
    dir,
    setReadOnly(readOnly) {
      execFileSync('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, dir], { stdio: 'pipe' });
    },
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Why a tmpfs cannot be mounted here (not root, no mount permission), or undefined when it can. */
export function tmpfsUnavailable(): string | undefined {
  try {
    mountTmpfs(1024 * 1024).unmount();
    return undefined;
  } catch (error) {
    return `mounting a tmpfs is not permitted here (${String(error).split('\n')[0]}); these tests need root`;
  }
}

/** Writes zeros to `file` until its file system refuses (ENOSPC); returns the bytes written. */
export function fillDisk(file: string): number {
  const fd = openSync(file, 'a');
  let written = 0;
  try {
    for (let chunk = 1024 * 1024; chunk >= 512; ) {
      try {
        written += writeSync(fd, Buffer.alloc(chunk));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        chunk /= 2;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}
