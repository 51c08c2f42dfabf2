/**
 * Speed and time left from a stream of "bytes done" samples. Speed is measured over a
 * sliding window (not since the start), so a pause or a reconnect shows up quickly and
 * fades out as quickly.
 */
export const SPEED_WINDOW_MS = 5000;

export class SpeedMeter {
  #samples: { at: number; bytes: number }[] = [];
  readonly #window: number;

  constructor(windowMs = SPEED_WINDOW_MS) {
    this.#window = windowMs;
  }

  /** Records that `bytes` were done in total at time `at` (ms). */
  sample(at: number, bytes: number): void {
    this.#samples.push({ at, bytes });
    // Keep one sample older than the window so the rate spans the whole window.
    while (this.#samples.length > 2 && (this.#samples[1]?.at ?? at) <= at - this.#window) this.#samples.shift();
  }

  /** Bytes per second over the window; 0 until two samples are far enough apart. */
  bytesPerSecond(): number {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last.at - first.at < 250) return 0;
    return Math.max(0, ((last.bytes - first.bytes) * 1000) / (last.at - first.at));
  }

  reset(): void {
    this.#samples = [];
  }
}

/** Seconds left at `bytesPerSecond`, or null when unknown. */
export function secondsLeft(remaining: number, bytesPerSecond: number): number | null {
  if (remaining <= 0) return 0;
  if (bytesPerSecond <= 0) return null;
  return Math.ceil(remaining / bytesPerSecond);
}

export function formatSpeed(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(bytesPerSecond < 1e7 ? 1 : 0)} MB/s`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return 'calculating…';
  if (seconds < 60) return `${seconds} s left`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s left`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

/** Sizes: one formatter for every view (receive/format.ts). */
export { formatBytes } from '../receive/format.ts';
