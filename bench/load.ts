/**
 * `npm run bench:load`: one Ferry server under many clients at once, on loopback.
 *
 *   uploads    BENCH_UPLOADS (500) clients at once, each from an address of its own, each
 *              creating a share of one BENCH_UPLOAD_KIB (1024) KiB file, uploading it
 *              through tus (POST, then one PATCH of the whole file) and completing the share.
 *              Baseline in the same run: as many PUTs of the same size, at once, to the
 *              server's bench sink (PUT /api/bench/sink: the body read and dropped, no storage).
 *   signaling  BENCH_SOCKETS (2000) WebSockets: one share each pair, its sender and one
 *              recipient in the share's room (unlisted, as a page pulling a share is); every
 *              recipient relays BENCH_RELAYS (10) `share-signal` messages to its sender, one
 *              every 100 ms, and the sender answers each; the round trip is measured.
 *
 * Clients are told apart as they would be behind a trusted reverse proxy: the server trusts
 * loopback (FERRY_TRUSTED_PROXIES) and each client sends X-Forwarded-For with an address of
 * the IPv6 documentation prefix 2001:db8::/32 (RFC 3849), its own /64, so per-address and
 * per-network limits apply to each client as they would in the open. No traffic leaves
 * loopback: the addresses are only header values.
 *
 * A 503 OVERLOADED (the server's backpressure) is waited out as its Retry-After says and
 * tried again, up to 10 times, as the app's tus client does; the count is printed.
 *
 * Printed: errors by kind (goal 0), p50/p99 latency of the API calls, of whole uploads and
 * of relay round trips, throughput against the sink (ratio), and the server's RSS before,
 * at its peak and after. The load generator runs on the same 2 cores as the server: the
 * absolute figures are this machine's; the ratio to the sink is the figure to compare.
 *
 * Environment: BENCH_UPLOADS, BENCH_UPLOAD_KIB, BENCH_SOCKETS, BENCH_RELAYS, BENCH_SRC
 * (`head`, default, `worktree`, or a revision), BENCH_TARGET (an origin such as
 * http://127.0.0.1:8080 to load instead of starting a server: a balancer in front of
 * several nodes, say; RSS is then not read).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import type { CreateShareResponse } from '../shared/api.ts';
import { tokenHash } from '../shared/keys.ts';
import { SIGNAL_PATH, UNLISTED_QUERY } from '../shared/signaling.ts';
import { onCleanUp, runMain } from './lib/cleanup.ts';
import { BenchServer, PeakSampler } from './lib/server.ts';
import { sourceKind, sourceTree } from './lib/source.ts';

const ROOT = resolve(import.meta.dirname, '..');
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 500);
const UPLOAD_BYTES = Number(process.env.BENCH_UPLOAD_KIB ?? 1024) * 1024;
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 2000);
const RELAYS = Number(process.env.BENCH_RELAYS ?? 10);
const RELAY_EVERY_MS = 100;
/** Every wait is bounded: a stuck request or socket counts as an error, never hangs the run. */
const REQUEST_TIMEOUT_MS = 120_000;
const RELAY_TIMEOUT_MS = 30_000;

class Errors {
  readonly byKind = new Map<string, number>();
  add(kind: string): void {
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
  }
  get total(): number {
    return [...this.byKind.values()].reduce((a, b) => a + b, 0);
  }
  toString(): string {
    return this.total === 0 ? '0' : [...this.byKind].map(([k, n]) => `${n} × ${k}`).join(', ');
  }
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : '-');
const mib = (v: number) => `${(v / 1024 / 1024).toFixed(1)} MiB`;

/** Client `i`'s address: its own /64 in the documentation prefix. */
function clientAddress(i: number): string {
  return `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`;
}

async function timed<T>(samples: number[], run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const value = await run();
  samples.push(performance.now() - started);
  return value;
}

/** 503 OVERLOADED answers the server gave (each retried after its Retry-After, as the app's clients do). */
let overloaded = 0;
const MAX_TRIES = 10;

async function request(url: string, init: RequestInit, expect: number, errors: Errors, what: string) {
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      // fetch's TypeError says only "fetch failed"; its cause names the socket's fault.
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      errors.add(`${what}: ${(error as Error).name}${cause ? ` (${cause})` : ''}`);
      throw error;
    }
    const text = await res.text();
    if (res.status === expect) return { res, text };
    const code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? '';
    if (res.status === 503 && code === 'OVERLOADED' && attempt < MAX_TRIES) {
      overloaded++;
      const wait = Math.min(Number(res.headers.get('retry-after') ?? 1), 5);
      await new Promise((r) => setTimeout(r, wait * 1000));
      continue;
    }
    errors.add(`${what}: ${res.status} ${code}`.trim());
    throw new Error(`${what}: ${res.status}`);
  }
}

interface Share extends CreateShareResponse {
  readerToken: string;
}

async function createShare(origin: string, client: number, size: number, errors: Errors, api: number[]) {
  const readerToken = randomBytes(32).toString('base64url');
  const body = {
    readerHash: await tokenHash(readerToken),
    expiresInSeconds: 3600,
    maxDownloads: null,
    password: null,
    manifest: randomBytes(48).toString('base64url'),
    files: [{ size }],
  };
  const { text } = await timed(api, () =>
    request(
      `${origin}/api/shares`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': clientAddress(client) },
        body: JSON.stringify(body),
      },
      201,
      errors,
      'create share',
    ),
  );
  return { ...(JSON.parse(text) as CreateShareResponse), readerToken } satisfies Share;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** One client: create a share, upload its file through tus, complete it. */
async function ferryUpload(
  origin: string,
  client: number,
  bytes: Uint8Array<ArrayBuffer>,
  errors: Errors,
  lat: Latencies,
) {
  const share = await createShare(origin, client, bytes.length, errors, lat.api);
  const forwarded = { 'X-Forwarded-For': clientAddress(client) };
  await timed(lat.upload, async () => {
    const created = await request(
      `${origin}/files/`,
      {
        method: 'POST',
        headers: {
          ...forwarded,
          'Tus-Resumable': '1.0.0',
          'Upload-Length': String(bytes.length),
          'Upload-Metadata': `share ${b64(share.id)},index ${b64('0')}`,
          Authorization: `Bearer ${share.uploadToken}`,
        },
      },
      201,
      errors,
      'tus POST',
    );
    const location = new URL(created.res.headers.get('location') ?? '', origin).href;
    await request(
      location,
      {
        method: 'PATCH',
        headers: {
          ...forwarded,
          'Tus-Resumable': '1.0.0',
          'Upload-Offset': '0',
          'Content-Type': 'application/offset+octet-stream',
          Authorization: `Bearer ${share.uploadToken}`,
        },
        body: bytes,
      },
      204,
      errors,
      'tus PATCH',
    );
  });
  await timed(lat.api, () =>
    request(
      `${origin}/api/shares/${share.id}`,
      {
        method: 'PATCH',
        headers: { ...forwarded, 'Content-Type': 'application/json', Authorization: `Bearer ${share.ownerToken}` },
        body: JSON.stringify({ complete: true }),
      },
      200,
      errors,
      'complete',
    ),
  );
}

async function sinkUpload(
  origin: string,
  client: number,
  bytes: Uint8Array<ArrayBuffer>,
  errors: Errors,
  lat: Latencies,
) {
  await timed(lat.upload, () =>
    request(
      `${origin}/api/bench/sink`,
      { method: 'PUT', headers: { 'X-Forwarded-For': clientAddress(client) }, body: bytes },
      200,
      errors,
      'sink PUT',
    ),
  );
}

interface Latencies {
  api: number[];
  upload: number[];
}

async function uploadRound(
  kind: 'sink' | 'ferry',
  origin: string,
  firstClient: number,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<{ errors: Errors; lat: Latencies; seconds: number }> {
  const errors = new Errors();
  const lat: Latencies = { api: [], upload: [] };
  const started = performance.now();
  const one = kind === 'sink' ? sinkUpload : ferryUpload;
  await Promise.all(
    Array.from({ length: UPLOADS }, (_, i) => one(origin, firstClient + i, bytes, errors, lat).catch(() => undefined)),
  );
  return { errors, lat, seconds: (performance.now() - started) / 1000 };
}

/** Opens one signaling socket as client `i` and resolves once `welcome` came. */
function openSocket(origin: string, client: number, errors: Errors): Promise<WebSocket> {
  const url = `${origin.replace(/^http/, 'ws')}${SIGNAL_PATH}?${UNLISTED_QUERY}`;
  const ws = new WebSocket(url, { headers: { 'X-Forwarded-For': clientAddress(client) } });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      errors.add('socket: no welcome');
      ws.terminate();
      fail(new Error('no welcome'));
    }, REQUEST_TIMEOUT_MS);
    ws.once('error', (error) => {
      clearTimeout(timer);
      errors.add(`socket: ${error.message.slice(0, 40)}`);
      fail(error);
    });
    ws.on('message', function first(data) {
      if ((JSON.parse(String(data)) as { type: string }).type !== 'welcome') return;
      ws.off('message', first);
      clearTimeout(timer);
      done(ws);
    });
  });
}

function nextMessage(ws: WebSocket, type: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      ws.off('message', on);
      fail(new Error(`no ${type}`));
    }, timeoutMs);
    const on = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      if (message.type !== type) return;
      clearTimeout(timer);
      ws.off('message', on);
      done(message);
    };
    ws.on('message', on);
  });
}

/** One share room: sender and recipient join, the recipient relays RELAYS messages, the sender answers each. */
async function relayPair(origin: string, pair: number, errors: Errors, rtts: number[], sockets: WebSocket[]) {
  const share = await createShare(origin, 100_000 + pair, 1024, errors, []);
  const owner = await openSocket(origin, 100_000 + pair, errors);
  sockets.push(owner);
  const reader = await openSocket(origin, 200_000 + pair, errors);
  sockets.push(reader);
  const ownerRoom = nextMessage(owner, 'room', REQUEST_TIMEOUT_MS);
  owner.send(JSON.stringify({ type: 'share-join', shareId: share.id, role: 'owner', token: share.ownerToken }));
  await ownerRoom;
  const readerRoom = nextMessage(reader, 'room', REQUEST_TIMEOUT_MS);
  reader.send(JSON.stringify({ type: 'share-join', shareId: share.id, role: 'reader', token: share.readerToken }));
  const room = (await readerRoom) as { peers: { id: string }[] };
  const ownerId = room.peers[0]?.id;
  if (!ownerId) {
    errors.add('share room: sender not in it');
    return;
  }
  owner.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; from?: string; data?: unknown };
    if (message.type === 'relay' && message.from)
      owner.send(JSON.stringify({ type: 'relay', to: message.from, kind: 'share-signal', data: message.data }));
    else if (message.type === 'error') errors.add(`sender got error ${(message as { code?: string }).code}`);
  });
  for (let n = 0; n < RELAYS; n++) {
    const answer = nextMessage(reader, 'relay', RELAY_TIMEOUT_MS);
    const sent = performance.now();
    reader.send(JSON.stringify({ type: 'relay', to: ownerId, kind: 'share-signal', data: { n } }));
    try {
      await answer;
      rtts.push(performance.now() - sent);
    } catch {
      errors.add('relay: no answer');
    }
    await new Promise((r) => setTimeout(r, RELAY_EVERY_MS));
  }
}

async function signalingRound(origin: string) {
  const errors = new Errors();
  const rtts: number[] = [];
  const sockets: WebSocket[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SOCKETS / 2 }, (_, i) =>
      relayPair(origin, i, errors, rtts, sockets).catch((error: unknown) => {
        if (!(error instanceof Error && /^(create share|no welcome|socket)/.test(error.message))) {
          errors.add(`pair: ${(error as Error).message.slice(0, 40)}`);
        }
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const open = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  for (const ws of sockets) ws.terminate();
  return { errors, rtts, seconds, open };
}

async function main(): Promise<void> {
  let origin = process.env.BENCH_TARGET;
  let server: BenchServer | undefined;
  if (!origin) {
    const tmp = await mkdtemp(join(tmpdir(), 'ferry-bench-load-'));
    onCleanUp(() => rm(tmp, { recursive: true, force: true }));
    const source = sourceTree(ROOT, tmp, sourceKind(), ['serve.ts']);
    server = await BenchServer.start(source.root, join(tmp, 'no-app'), join(tmp, 'data'), {
      FERRY_TRUSTED_PROXIES: '127.0.0.1,::1',
      FERRY_LOG_LEVEL: 'warn',
    });
    onCleanUp(() => server!.stop());
    origin = server.origin;
    console.log(`server ${source.label} at ${origin}`);
  }
  const rss = server ? new PeakSampler(() => server.rss()) : undefined;
  const rssBefore = server?.rss() ?? Number.NaN;
  const bytes = new Uint8Array(randomBytes(UPLOAD_BYTES));

  const sink = await uploadRound('sink', origin, 0, bytes);
  const ferry = await uploadRound('ferry', origin, 10_000, bytes);
  const rssAfterUploads = server?.rss() ?? Number.NaN;
  const signaling = await signalingRound(origin);
  await new Promise((r) => setTimeout(r, 2000));
  const rssAfter = server?.rss() ?? Number.NaN;
  rss?.stop();

  const rate = (r: { seconds: number }) => (UPLOADS * UPLOAD_BYTES) / 1024 / 1024 / r.seconds;
  console.log(`\n${UPLOADS} uploads of ${UPLOAD_BYTES / 1024} KiB at once:`);
  console.log(
    `  sink PUT   ${rate(sink).toFixed(1)} MiB/s, whole request p50 ${ms(percentile(sink.lat.upload, 50))} p99 ${ms(percentile(sink.lat.upload, 99))}, errors ${sink.errors}`,
  );
  console.log(
    `  Ferry      ${rate(ferry).toFixed(1)} MiB/s, tus POST+PATCH p50 ${ms(percentile(ferry.lat.upload, 50))} p99 ${ms(percentile(ferry.lat.upload, 99))}, errors ${ferry.errors}`,
  );
  console.log(
    `             /api (create, complete) p50 ${ms(percentile(ferry.lat.api, 50))} p99 ${ms(percentile(ferry.lat.api, 99))}`,
  );
  console.log(`  ratio Ferry/sink, throughput: ${(rate(ferry) / rate(sink)).toFixed(2)}`);
  console.log(`\n${SOCKETS} signaling sockets, ${SOCKETS / 2} share rooms, ${RELAYS} relayed round trips each:`);
  console.log(
    `  round trips ${signaling.rtts.length} of ${(SOCKETS / 2) * RELAYS}, p50 ${ms(percentile(signaling.rtts, 50))} p99 ${ms(percentile(signaling.rtts, 99))}, sockets open at the end ${signaling.open}, errors ${signaling.errors}, ${signaling.seconds.toFixed(1)} s`,
  );
  if (server && rss) {
    console.log(
      `\nserver RSS: before ${mib(rssBefore)}, after uploads ${mib(rssAfterUploads)}, peak ${mib(rss.peak)}, after all ${mib(rssAfter)} (growth ${mib(rssAfter - rssBefore)})`,
    );
  }
  console.log(`503 OVERLOADED answers retried after Retry-After: ${overloaded}`);
  const errors = sink.errors.total + ferry.errors.total + signaling.errors.total;
  console.log(`\nerrors in all: ${errors} (goal 0)`);
  if (errors > 0) process.exitCode = 1;
}

await runMain(main);
