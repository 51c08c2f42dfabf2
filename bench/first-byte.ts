/**
 * `npm run bench:first-byte`: download while uploading — how soon the recipient gets its
 * first decrypted byte while the sender is still uploading (goal < 2 s), against the same
 * recipient downloading an already finished share in the same run.
 *
 *   1. A sender (unthrottled) sends file A through the real app and waits for its link.
 *   2. Baseline: a fresh recipient opens A's link and clicks Download.
 *   3. A sender throttled to BENCH_FB_UPLOAD_MBPS sends file B; its link is read from the
 *      sender's IndexedDB as soon as the share exists, and once the sender's progress shows
 *      BENCH_FB_AT % a fresh recipient opens it and clicks Download.
 *
 * "First decrypted byte": the first byte of the file on disk, i.e. the browser's download
 * file (Playwright `downloadsPath`) growing past 0 bytes, polled every 10 ms. Plaintext
 * reaches the disk only after decryption, so this is when the recipient really has
 * something. Both downloads are then finished and checked (SHA-256 of the source).
 *
 * Environment: BENCH_FB_MB (file size, MiB, default 64), BENCH_FB_UPLOAD_MBPS (sender
 * throttle for B in MiB/s, default 4), BENCH_FB_AT (sender progress % before the recipient
 * starts, default 10), CHROMIUM_PATH. Builds the worktree's app into bench/out/first-byte-app.
 * Writes bench/out/first-byte-<time>.json. Loopback only; every wait is bounded; temp files,
 * browsers and the server are removed on exit, failure and Ctrl-C.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { launch, withoutSavePicker } from './lib/browser.ts';
import { onCleanUp, runMain } from './lib/cleanup.ts';
import { sendFileInput } from './lib/file-input.ts';
import { sha256File, writeRandomFile } from './lib/files.ts';
import { BenchServer } from './lib/server.ts';
import { intEnv, MiB, sleep, within } from './lib/stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench', 'out');

const SIZE = intEnv('BENCH_FB_MB', 64) * MiB;
const UPLOAD_RATE = intEnv('BENCH_FB_UPLOAD_MBPS', 4) * MiB;
const START_AT = Math.min(90, intEnv('BENCH_FB_AT', 10));
const GOAL_MS = 2000;
const LIMIT_MS = 60_000 + (SIZE / 1e6) * 1000;

function log(line: string): void {
  console.log(`[first-byte ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

/** Picks `file` in the send view and clicks Send; `rate` throttles the page's uploads (CDP). */
async function startSend(page: Page, origin: string, file: string, rate?: number): Promise<void> {
  await page.goto(`${origin}/`);
  if (rate) {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: rate,
    });
  }
  const input = sendFileInput(page);
  await input.waitFor({ state: 'attached', timeout: 30_000 });
  await input.setInputFiles(file);
  const send = page.getByRole('button', { name: 'Send', exact: true });
  await within(
    (async () => {
      while (!(await send.isEnabled())) await sleep(50);
    })(),
    30_000,
    'Send becomes enabled',
  );
  await send.click();
}

/** The link of the share being uploaded, from the sender's IndexedDB (client/lib/store/db.ts). */
async function pendingLink(page: Page): Promise<string> {
  return within(
    (async () => {
      for (;;) {
        const link = await page.evaluate(
          () =>
            new Promise<string>((done) => {
              const open = indexedDB.open('ferry');
              open.onerror = () => done('');
              open.onsuccess = () => {
                const db = open.result;
                if (!db.objectStoreNames.contains('shares')) return done('');
                const all = db.transaction('shares').objectStore('shares').getAll();
                all.onerror = () => done('');
                all.onsuccess = () => {
                  db.close();
                  const records = all.result as Array<{ state: string; link: string }>;
                  done(records.find((r) => r.state === 'uploading')?.link ?? '');
                };
              };
            }),
        );
        if (link) return link;
        await sleep(100);
      }
    })(),
    60_000,
    'the share exists',
  );
}

async function shareState(origin: string, link: string): Promise<string> {
  const id = /\/s\/([A-Za-z0-9_-]{16})#/.exec(link)?.[1] ?? '';
  const answer = (await (await fetch(`${origin}/api/shares/${id}`)).json()) as { state?: string };
  return answer.state ?? '';
}

/** Bytes of the largest file in `dir` (the browser's download in progress), 0 when none. */
async function downloadedBytes(dir: string): Promise<number> {
  let most = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    most = Math.max(
      most,
      await stat(join(dir, name)).then(
        (s) => s.size,
        () => 0,
      ),
    );
  }
  return most;
}

interface Receipt {
  firstByteMs: number;
  completeMs: number;
  /** Share state when the first byte was on disk. */
  stateAtFirstByte: string;
}

/** A fresh recipient: opens `link`, clicks Download, times the first byte on disk and the end. */
async function receive(origin: string, link: string, sourceSha: string): Promise<Receipt> {
  const downloads = await mkdtemp(join(tmpdir(), 'ferry-first-byte-dl-'));
  onCleanUp(() => rm(downloads, { recursive: true, force: true }));
  const browser = await launch(downloads);
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    await context.addInitScript(withoutSavePicker);
    const page = await context.newPage();
    await page.goto(link);
    const button = page.getByRole('button', { name: /^Download / }).first();
    await button.waitFor({ state: 'visible', timeout: 60_000 });
    const t0 = performance.now();
    const downloadEvent = page.waitForEvent('download', { timeout: LIMIT_MS });
    await button.click();
    const firstByteMs = await within(
      (async () => {
        while ((await downloadedBytes(downloads)) === 0) await sleep(10);
        return performance.now() - t0;
      })(),
      LIMIT_MS,
      'the first byte on disk',
    );
    const stateAtFirstByte = await shareState(origin, link);
    const download = await downloadEvent;
    const path = await within(download.path(), LIMIT_MS, 'the download finishes');
    const completeMs = performance.now() - t0;
    const failure = await download.failure();
    if (failure !== null) throw new Error(`the download failed: ${failure}`);
    await page.getByText('Verified').first().waitFor({ state: 'visible', timeout: 60_000 });
    const sha = await sha256File(path);
    if (sha !== sourceSha) throw new Error(`downloaded sha256 ${sha}: not the file sent`);
    return { firstByteMs, completeMs, stateAtFirstByte };
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'ferry-first-byte-'));
  onCleanUp(() => rm(tmp, { recursive: true, force: true }));
  mkdirSync(OUT, { recursive: true });
  const appDir = join(OUT, 'first-byte-app');
  log('building the app (worktree)…');
  await build({
    configFile: join(ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: appDir, emptyOutDir: true },
  });

  const fileA = join(tmp, 'finished.bin');
  const fileB = join(tmp, 'uploading.bin');
  const shaA = await writeRandomFile(fileA, SIZE, 11);
  const shaB = await writeRandomFile(fileB, SIZE, 12);
  const dataDir = join(tmp, 'data');
  mkdirSync(dataDir);
  const server = await BenchServer.start(ROOT, appDir, dataDir);
  onCleanUp(() => server.stop());
  log(`server at ${server.origin}; files of ${SIZE / MiB} MiB`);

  // 1. A finished share.
  const senderA = await launch();
  const pageA = await (await senderA.newContext()).newPage();
  await startSend(pageA, server.origin, fileA);
  const linkInput = pageA.getByLabel('Share link').first();
  await linkInput.waitFor({ state: 'visible', timeout: LIMIT_MS });
  const linkA = await linkInput.inputValue();
  await senderA.close();

  // 2. Baseline: the recipient of the finished share.
  const baseline = await receive(server.origin, linkA, shaA);
  log(`finished share: first byte ${baseline.firstByteMs.toFixed(0)} ms, whole ${baseline.completeMs.toFixed(0)} ms`);

  // 3. The recipient of a share still uploading.
  const senderB = await launch();
  const pageB = await (await senderB.newContext()).newPage();
  await startSend(pageB, server.origin, fileB, UPLOAD_RATE);
  const linkB = await pendingLink(pageB);
  const progress = pageB.getByRole('progressbar').first();
  await within(
    (async () => {
      for (;;) {
        const now = Number((await progress.getAttribute('aria-valuenow').catch(() => null)) ?? 0);
        if (now >= START_AT) return;
        await sleep(100);
      }
    })(),
    LIMIT_MS,
    `the sender reaches ${START_AT} %`,
  );
  const live = await receive(server.origin, linkB, shaB);
  await senderB.close();
  log(
    `uploading share: first byte ${live.firstByteMs.toFixed(0)} ms (share ${live.stateAtFirstByte} then), ` +
      `whole ${live.completeMs.toFixed(0)} ms`,
  );

  const ratio = live.firstByteMs / baseline.firstByteMs;
  const met = live.firstByteMs < GOAL_MS && live.stateAtFirstByte === 'uploading';
  console.log('');
  console.log(`| first decrypted byte after the click, ${SIZE / MiB} MiB | ms |`);
  console.log('| --- | --- |');
  console.log(`| finished share (baseline) | ${baseline.firstByteMs.toFixed(0)} |`);
  console.log(
    `| sender mid-upload (${UPLOAD_RATE / MiB} MiB/s, started at ${START_AT} %) | ${live.firstByteMs.toFixed(0)} |`,
  );
  console.log(`| ratio (mid-upload / finished) | ${ratio.toFixed(2)} |`);
  console.log(`| goal: mid-upload < ${GOAL_MS} ms while still uploading | ${met ? 'met' : '**not met**'} |`);
  const result = { size: SIZE, uploadRate: UPLOAD_RATE, startAt: START_AT, baseline, live, ratio, goalMet: met };
  const name = `first-byte-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(join(OUT, name), `${JSON.stringify(result, null, 2)}\n`);
}

await runMain(main);
