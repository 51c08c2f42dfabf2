/**
 * `npm run bench:cli-direct`: `ferry send --to` → `ferry receive --nearby` between two
 * commands paired on one Ferry server on loopback, against a raw data channel measured in
 * the same run: two libwebrtc peers (@roamhq/wrtc, the command's engine) in this process,
 * the same bytes in 64 KiB messages with the command's 1/4 MiB marks. Rounds alternate
 * (raw, [before], after; BENCH_RUNS rounds, default 2; medians) at each of BENCH_SIZES_MB
 * (default 20,256). Two figures per transfer: "total", the sending command's whole run
 * (start-up, signaling, hashing, connection, transfer, the recipient's last verification),
 * and "transfer", from its `Route: directly` line to its exit. The received file's SHA-256
 * is checked against the source.
 *
 * BENCH_BEFORE: another checkout's cli/ferry.mjs (e.g. `git archive main` unpacked, with
 * its own node_modules): its commands are paired too and join every round, for a before
 * and after on one load. BENCH_TURN=1: the server hands out coturn (started here, relay
 * only) as the app's TURN journey does, so every connection is relayed. BENCH_BROWSER=1: also
 * the app in Chromium ↔ the command, not paired (the code compared on both sides): the app
 * sends to `ferry receive --nearby` (the clock runs from the `y` typed at its `Accept?` to
 * its exit, the file verified and saved) and `ferry send --to` the app (from the click on
 * Accept to "Received and verified.", the download's SHA-256 checked).
 * Prints a table; removes its files and stops its processes at the end, on failure and on Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { HIGH_WATER_MARK, LOW_WATER_MARK, loadWebRtc } from '../cli/direct/rtc-link.ts';
import { Coturn } from '../e2e/support/coturn.ts';
import { launch, withoutSavePicker } from './lib/browser.ts';
import { onCleanUp, runMain } from './lib/cleanup.ts';
import { sha256File, writeRandomFile } from './lib/files.ts';
import { BenchServer } from './lib/server.ts';
import { intEnv, MiB, mbps, median, sleep, within } from './lib/stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SIZES = (process.env.BENCH_SIZES_MB ?? '20,256').split(',').map((mb) => Number(mb) * MiB);
const RUNS = intEnv('BENCH_RUNS', 2);
const BEFORE = process.env.BENCH_BEFORE ? resolve(process.env.BENCH_BEFORE) : null;
const TURN = process.env.BENCH_TURN === '1';
const BROWSER = process.env.BENCH_BROWSER === '1';
/** The command's device name when it meets the app. */
const BOX = 'Bench box';
const RAW_MESSAGE = 64 * 1024;

/** One `ferry` run: its stderr so far, a line typed at its terminal, and its end. */
class Command {
  readonly child: ChildProcess;
  readonly started = performance.now();
  readonly exited: Promise<{ status: number | null; ms: number }>;
  stderr = '';
  /** performance.now() when each stderr line matching a watched pattern first appeared. */
  readonly #seen = new Map<string, number>();

  constructor(ferry: string, state: string, args: string[]) {
    this.child = spawn(process.execPath, [ferry, ...args], {
      cwd: ROOT,
      env: { ...process.env, XDG_STATE_HOME: state, FERRY_DEBUG: '' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    onCleanUp(async () => {
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      for (const key of ['Route: directly', 'Waiting for files']) {
        if (!this.#seen.has(key) && this.stderr.includes(key)) this.#seen.set(key, performance.now());
      }
    });
    this.exited = new Promise((done) =>
      this.child.once('exit', (status) => done({ status, ms: performance.now() - this.started })),
    );
  }

  /** Resolves with the first match of `pattern` on stderr. */
  async waitFor(pattern: RegExp, ms = 60_000): Promise<RegExpExecArray> {
    return within(
      (async () => {
        for (;;) {
          const match = pattern.exec(this.stderr);
          if (match) return match;
          if (this.child.exitCode !== null) throw new Error(`ferry exited ${this.child.exitCode}: ${this.stderr}`);
          await sleep(20);
        }
      })(),
      ms,
      `${pattern} from ferry`,
    );
  }

  seen(key: string): number | undefined {
    return this.#seen.get(key);
  }

  type(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  async ok(): Promise<number> {
    const { status, ms } = await this.exited;
    if (status !== 0) throw new Error(`ferry exited ${status}: ${this.stderr}`);
    return ms;
  }
}

/** Two commands of one checkout (`ferry`), paired with each other: state directories a and b. */
async function pairCommands(ferry: string, dir: string, server: string): Promise<{ a: string; b: string }> {
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const making = new Command(ferry, a, ['pair', '--server', server, '--name', 'Alpha']);
  const [, first, second] = await making.waitFor(/Pairing code: (\d{3}) (\d{3})/);
  const joining = new Command(ferry, b, ['pair', `${first}${second}`, '--server', server, '--name', 'Beta']);
  await Promise.all([making.waitFor(/Verification code/), joining.waitFor(/Verification code/)]);
  making.type('y');
  joining.type('y');
  await Promise.all([making.ok(), joining.ok()]);
  return { a, b };
}

interface Side {
  label: string;
  ferry: string;
  states: { a: string; b: string };
  total: number[];
  transfer: number[];
  /** App → `ferry receive --nearby`, and `ferry send --to` → app (BENCH_BROWSER). */
  fromApp: number[];
  toApp: number[];
}

/** One `send --to` → `receive --nearby` of `file`; checks the bytes. */
async function direct(side: Side, server: string, file: string, digest: string, out: string): Promise<void> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const receiving = new Command(side.ferry, side.states.b, [
    'receive',
    '--nearby',
    '--yes',
    '-o',
    out,
    '--server',
    server,
  ]);
  await receiving.waitFor(/Waiting for files/);
  const sending = new Command(side.ferry, side.states.a, ['send', '--to', 'Beta', file, '--server', server]);
  const total = await sending.ok();
  await receiving.ok();
  const route = sending.seen('Route: directly');
  if (route === undefined) throw new Error(`no direct route: ${sending.stderr}`);
  side.total.push(total);
  side.transfer.push(sending.started + total - route);
  const name = file.slice(file.lastIndexOf('/') + 1);
  if ((await sha256File(join(out, name))) !== digest) throw new Error(`${side.label}: the received file differs`);
  if (TURN && !/Connection: relayed \(TURN\)/.test(sending.stderr) && side.label !== 'before') {
    throw new Error(`not relayed: ${sending.stderr}`);
  }
}

/** The same bytes over one raw data channel between two libwebrtc peers in this process. */
async function rawChannel(bytes: number, ice: RTCConfiguration): Promise<number> {
  const { RTCPeerConnection } = loadWebRtc();
  const a = new RTCPeerConnection(ice);
  const b = new RTCPeerConnection(ice);
  try {
    a.onicecandidate = ({ candidate }) => void (candidate?.candidate && b.addIceCandidate(candidate));
    b.onicecandidate = ({ candidate }) => void (candidate?.candidate && a.addIceCandidate(candidate));
    const channel = a.createDataChannel('raw');
    let received = 0;
    b.ondatachannel = ({ channel: incoming }) => {
      incoming.binaryType = 'arraybuffer';
      incoming.onmessage = ({ data }: MessageEvent<ArrayBuffer>) => {
        received += data.byteLength;
      };
    };
    const open = new Promise<void>((done) => {
      channel.onopen = () => done();
    });
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    await within(open, 30_000, 'raw channel open');
    const message = new Uint8Array(RAW_MESSAGE);
    const started = performance.now();
    for (let sent = 0; sent < bytes; sent += RAW_MESSAGE) {
      if (channel.bufferedAmount > HIGH_WATER_MARK) {
        while (channel.bufferedAmount > LOW_WATER_MARK) await sleep(5);
      }
      channel.send(message);
    }
    const total = Math.ceil(bytes / RAW_MESSAGE) * RAW_MESSAGE;
    while (received < total) await sleep(2);
    return performance.now() - started;
  } finally {
    a.close();
    b.close();
  }
}

/** The app sends `file` to `ferry receive --nearby` (not paired): ms from the `y` at its `Accept?` to its exit. */
async function appToCommand(side: Side, page: Page, server: string, file: string, digest: string, out: string) {
  await rm(out, { recursive: true, force: true });
  const receiving = new Command(side.ferry, join(side.states.b, '..', 'box'), [
    'receive',
    '--nearby',
    '-o',
    out,
    '--server',
    server,
    '--name',
    BOX,
  ]);
  await receiving.waitFor(/Waiting for files/);
  await page.goto(server);
  const tile = page.getByRole('button', { name: `Send to ${BOX}`, exact: true });
  await tile.waitFor({ timeout: 30_000 });
  await page.getByLabel(`Files for ${BOX}`).setInputFiles(file);
  await page.getByRole('button', { name: 'Codes match' }).click({ timeout: 60_000 });
  await receiving.waitFor(/Accept\?/);
  const accepted = performance.now();
  receiving.type('y');
  const ms = (await receiving.ok()) + receiving.started - accepted;
  const name = file.slice(file.lastIndexOf('/') + 1);
  if ((await sha256File(join(out, name))) !== digest)
    throw new Error(`${side.label}: the command received other bytes`);
  side.fromApp.push(ms);
}

/** `ferry send --to` the app (not paired): ms from the click on Accept to "Received and verified.". */
async function commandToApp(side: Side, page: Page, server: string, file: string, digest: string) {
  await page.goto(server);
  const self = page.getByText('This device appears as').locator('strong');
  await self.waitFor({ timeout: 30_000 });
  const appName = (await self.textContent()) ?? '';
  const sending = new Command(side.ferry, join(side.states.a, '..', 'box'), [
    'send',
    '--to',
    appName,
    file,
    '--server',
    server,
    '--name',
    BOX,
  ]);
  await sending.waitFor(/show the same code\?/);
  sending.type('y');
  const offer = page.getByRole('dialog', { name: `Files from ${BOX}` });
  const accept = offer.getByRole('button', { name: 'Accept' });
  await accept.waitFor({ timeout: 60_000 });
  const download = page.waitForEvent('download', { timeout: 600_000 });
  const started = performance.now();
  await accept.click();
  await offer.getByText('Received and verified.', { exact: true }).waitFor({ timeout: 600_000 });
  side.toApp.push(performance.now() - started);
  await sending.ok();
  const saved = await (await download).path();
  if ((await sha256File(saved)) !== digest) throw new Error(`${side.label}: the app saved other bytes`);
}

const loadAverage = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

await runMain(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-direct-'));
  onCleanUp(() => rm(dir, { recursive: true, force: true }));
  const coturn = TURN ? await Coturn.start() : null;
  if (coturn) onCleanUp(() => coturn.stop());
  const server = await BenchServer.start(ROOT, join(ROOT, 'dist'), join(dir, 'data'), coturn?.ferryEnv ?? {});
  onCleanUp(() => server.stop());
  const ice: RTCConfiguration = coturn
    ? ((await (await fetch(`${server.origin}/api/ice`)).json()) as RTCConfiguration)
    : { iceServers: [] };
  const load = await loadAverage();
  const sides: Side[] = [];
  if (BEFORE) {
    const states = await pairCommands(BEFORE, join(dir, 'before'), server.origin);
    sides.push({ label: 'before', ferry: BEFORE, states, total: [], transfer: [], fromApp: [], toApp: [] });
  }
  const after = join(ROOT, 'cli', 'ferry.mjs');
  const states = await pairCommands(after, join(dir, 'after'), server.origin);
  sides.push({
    label: BEFORE ? 'after' : 'ferry',
    ferry: after,
    states,
    total: [],
    transfer: [],
    fromApp: [],
    toApp: [],
  });

  const page = BROWSER ? await appPage(dir) : null;
  const lines = [
    `ferry send --to → ferry receive --nearby (paired, ${TURN ? 'relay only through coturn' : 'loopback'}) vs a raw libwebrtc channel in one process, ${RUNS} rounds (medians, MB/s = 10^6 B/s)`,
  ];
  for (const size of SIZES) {
    const file = join(dir, `direct-${size / MiB}.bin`);
    await writeRandomFile(file, size, 11);
    const digest = await sha256File(file);
    const raw: number[] = [];
    for (const side of sides) {
      side.total = [];
      side.transfer = [];
      side.fromApp = [];
      side.toApp = [];
    }
    for (let round = 0; round < RUNS; round++) {
      raw.push(await rawChannel(size, ice));
      console.error(`${size / MiB} MiB  raw channel      ${mbps(size, raw.at(-1)!).toFixed(1)} MB/s`);
      for (const side of sides) {
        await direct(side, server.origin, file, digest, join(dir, `out-${side.label}`));
        console.error(
          `${size / MiB} MiB  ${side.label.padEnd(6)} total ${mbps(size, side.total.at(-1)!).toFixed(1)} MB/s, transfer ${mbps(size, side.transfer.at(-1)!).toFixed(1)} MB/s, load ${await loadAverage()}`,
        );
        if (!page) continue;
        await appToCommand(side, page, server.origin, file, digest, join(dir, `app-out-${side.label}`));
        await commandToApp(side, page, server.origin, file, digest);
        console.error(
          `${size / MiB} MiB  ${side.label.padEnd(6)} app → command ${mbps(size, side.fromApp.at(-1)!).toFixed(1)} MB/s, command → app ${mbps(size, side.toApp.at(-1)!).toFixed(1)} MB/s`,
        );
      }
    }
    await rm(file, { force: true });
    const rawMBps = mbps(size, median(raw));
    lines.push(`  ${size / MiB} MiB: raw channel ${rawMBps.toFixed(1)} MB/s`);
    for (const side of sides) {
      const total = mbps(size, median(side.total));
      const transfer = mbps(size, median(side.transfer));
      lines.push(
        `  ${size / MiB} MiB: ${side.label.padEnd(6)} total ${total.toFixed(1)} MB/s, transfer ${transfer.toFixed(1)} MB/s   ratio to raw ${(transfer / rawMBps).toFixed(2)}`,
      );
      if (page) {
        const fromApp = mbps(size, median(side.fromApp));
        const toApp = mbps(size, median(side.toApp));
        lines.push(
          `  ${size / MiB} MiB: ${side.label.padEnd(6)} app → command ${fromApp.toFixed(1)} MB/s (ratio to raw ${(fromApp / rawMBps).toFixed(2)}), command → app ${toApp.toFixed(1)} MB/s (${(toApp / rawMBps).toFixed(2)})`,
        );
      }
    }
    if (BEFORE) {
      const [before, later] = sides.map((side) => mbps(size, median(side.transfer)));
      lines.push(`  ${size / MiB} MiB: after / before (transfer) ${(later! / before!).toFixed(1)}×`);
    }
  }
  lines.push(`  load average: ${load} at the start, ${await loadAverage()} at the end (2 cores)`);
  console.log(lines.join('\n'));
});

/** The app in a Chromium page whose downloads land in `dir` (no save picker: the service-worker stream). */
async function appPage(dir: string): Promise<Page> {
  const browser = await launch(join(dir, 'downloads'));
  const context = await browser.newContext({ acceptDownloads: true });
  await context.addInitScript(withoutSavePicker);
  return context.newPage();
}
