/**
 * Progress on stderr: bytes done of total, speed and time left. On a terminal one line
 * redrawn twice a second; otherwise (a log, CI) a line every 5 s, so logs stay short.
 */
const TTY_EVERY_MS = 500;
const LOG_EVERY_MS = 5000;
/** Speed is averaged over this window, so a stall shows within seconds. */
const WINDOW_MS = 5000;

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export class Progress {
  readonly #label: string;
  readonly #total: number;
  readonly #out: NodeJS.WriteStream;
  readonly #quiet: boolean;
  #done = 0;
  #samples: Array<{ at: number; done: number }> = [];
  #shownAt = 0;
  #shownDone = -1;

  constructor(label: string, total: number, options: { quiet?: boolean; out?: NodeJS.WriteStream } = {}) {
    this.#label = label;
    this.#total = total;
    this.#out = options.out ?? process.stderr;
    this.#quiet = options.quiet ?? false;
  }

  /** Bytes done so far (absolute, so a resumed transfer starts where it was). */
  update(done: number): void {
    this.#done = done;
    const now = Date.now();
    this.#samples.push({ at: now, done });
    while (this.#samples.length > 2 && now - (this.#samples[0]?.at ?? now) > WINDOW_MS) this.#samples.shift();
    if (now - this.#shownAt >= (this.#out.isTTY ? TTY_EVERY_MS : LOG_EVERY_MS)) this.#show(now);
  }

  /** The last line, kept on screen. */
  finish(): void {
    if (this.#shownDone !== this.#done) this.#show(Date.now());
    if (!this.#quiet && this.#out.isTTY) this.#out.write('\n');
  }

  /** Bytes per second over the last few seconds. */
  speed(now = Date.now()): number {
    const first = this.#samples[0];
    if (!first || now - first.at < 200) return 0;
    return ((this.#done - first.done) * 1000) / (now - first.at);
  }

  #show(now: number): void {
    this.#shownAt = now;
    this.#shownDone = this.#done;
    if (this.#quiet) return;
    const speed = this.speed(now);
    const left = speed > 0 ? (this.#total - this.#done) / speed : Number.POSITIVE_INFINITY;
    const percent = this.#total > 0 ? Math.floor((this.#done * 100) / this.#total) : 100;
    const line =
      `${this.#label} ${percent}% ${formatBytes(this.#done)} of ${formatBytes(this.#total)}` +
      ` · ${formatBytes(Math.round(speed))}/s · ${formatDuration(left)} left`;
    this.#out.write(this.#out.isTTY ? `\r\u001b[2K${line}` : `${line}\n`);
  }
}
