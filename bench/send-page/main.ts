/**
 * The no-CDP send page (bench/run.ts "bare" step): served by a Ferry server as its web app
 * and opened by a Chromium that has no DevTools protocol attached, so nothing can retain
 * request bodies or slow them down. On load it makes a File of `mb` MiB of deterministic
 * pseudo-random bytes (in memory: a bare browser cannot be handed a file from disk), then
 * either sends it with the app's own Picker (Uppy + tus) and Sender (hash + encrypt +
 * manifest), or PUTs it to the bench sink with fetch (`mode=put`, the baseline). It then
 * waits `linger` ms and reports by navigating to `report` (the page's CSP allows fetch to
 * its own origin only; a navigation is not a fetch): `?ok=1&ms=…&end=…` or `?ok=0&error=…`.
 */
import { Picker } from '../../client/lib/transfer/send/picker.svelte.ts';
import { Sender } from '../../client/lib/transfer/send/sender.svelte.ts';

const params = new URLSearchParams(location.search);
const mode = params.get('mode') === 'put' ? 'put' : 'send';
const mb = Number(params.get('mb') ?? '64');
const linger = Number(params.get('linger') ?? '2000');
const report = params.get('report') ?? '';
const status = document.getElementById('status')!;

/**
 * One 16 MiB block of xorshift bytes, repeated: Chrome's blob storage keeps a repeated Blob
 * once, so the source costs 16 MiB of memory whatever its size and the browser's memory is
 * what the transfer costs (a 1 GiB in-memory source would also exceed Chrome's in-memory
 * blob limit and be paged to disk). Encryption and hashing do not care about the period.
 */
function makeFile(bytes: number): File {
  const part = 16 * 1024 * 1024;
  const words = new Uint32Array(part / 4);
  let x = 0x5eed;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  const block = new Blob([words]);
  const parts: Blob[] = [];
  for (let offset = 0; offset < bytes; offset += part) {
    parts.push(bytes - offset >= part ? block : block.slice(0, bytes - offset));
  }
  return new File(parts, `bench-${mb}MiB.bin`);
}

const gc = (globalThis as { gc?: () => void }).gc;
if (params.get('gc') && gc) setInterval(gc, 250);

async function run(): Promise<number> {
  const file = makeFile(mb * 1024 * 1024);
  status.textContent = `running ${mode}`;
  if (mode === 'put') {
    const t0 = performance.now();
    const res = await fetch('/api/bench/sink', { method: 'PUT', body: file });
    const body = (await res.json()) as { bytes?: number };
    if (body.bytes !== file.size) throw new Error(`sink got ${body.bytes} bytes`);
    return performance.now() - t0;
  }
  const picker = new Picker();
  const sender = new Sender(picker, () => undefined);
  // Uppy (and with it the tus uploader) loads on the first pick: add() refuses files before.
  await picker.load();
  if (!picker.add(file, 'bench')) throw new Error('the file could not be added');
  const t0 = performance.now();
  await sender.send({ expiresInSeconds: 86400, maxDownloads: '', password: '' });
  const ms = performance.now() - t0;
  if (sender.phase !== 'done') throw new Error(`send ended ${sender.phase}: ${sender.error?.message ?? ''}`);
  return ms;
}

// `hold=1`: wait for window.ferryGo() first, so a profiler can attach to the page before the clock runs.
if (params.get('hold')) {
  status.textContent = 'holding';
  await new Promise<void>((go) => Object.assign(window, { ferryGo: go }));
}
// The clock's end on the wall clock (epoch ms), so the runner can take the CPU the browser
// and the server used between the samples around [end - ms, end] (bench/lib/bare.ts).
const result = await run().then(
  (ms) => `ok=1&ms=${ms.toFixed(0)}&end=${(performance.timeOrigin + performance.now()).toFixed(0)}`,
  (error: unknown) => `ok=0&error=${encodeURIComponent(error instanceof Error ? error.message : String(error))}`,
);
status.textContent = `done ${result}`;
await new Promise((done) => setTimeout(done, linger));
if (report) location.href = `${report}?${result}`;
