/**
 * Backpressure: past `maxUploads` tus POST/PATCH or `maxDownloads` ciphertext GETs in
 * flight, or while the event loop lags more than `maxLagMs`, a new transfer is refused with
 * 503 OVERLOADED and Retry-After instead of slowing every transfer already running. The
 * tus client retries 5xx after its back-off (client/lib/transfer/send/retry.ts), a download
 * resumes after its own (client/lib/transfer/receive/resume.ts).
 */
import type { ServerResponse } from 'node:http';
import { HeaderedError } from './respond.ts';

export type TransferKind = 'upload' | 'download';

export interface OverloadLimits {
  maxUploads: number;
  maxDownloads: number;
  /** Event-loop delay (how late the last tick ran) above which new transfers wait; 0: not checked. */
  maxLagMs: number;
}

/** Seconds a refused client is told to wait. */
const RETRY_AFTER_S = 5;
/** How often the lag is measured: a timer that runs late by N ms means a loop N ms behind. */
const TICK_MS = 100;

export class Overload {
  readonly #limits: OverloadLimits;
  readonly #inFlight: Record<TransferKind, number> = { upload: 0, download: 0 };
  readonly #timer: NodeJS.Timeout;
  #lagMs = 0;
  #lastTick = performance.now();

  constructor(limits: OverloadLimits) {
    this.#limits = limits;
    // (perf_hooks' monitorEventLoopDelay did not show a 600 ms block here: measured by hand.)
    this.#timer = setInterval(() => {
      const now = performance.now();
      this.#lagMs = Math.max(0, now - this.#lastTick - TICK_MS);
      this.#lastTick = now;
    }, TICK_MS);
    this.#timer.unref();
  }

  /** How late the last lag tick ran, in ms. */
  get lagMs(): number {
    return this.#lagMs;
  }

  /** Counts a transfer until `res` closes, or throws OVERLOADED (503, Retry-After). */
  admit(kind: TransferKind, res: ServerResponse): void {
    const max = kind === 'upload' ? this.#limits.maxUploads : this.#limits.maxDownloads;
    if (this.#inFlight[kind] >= max) {
      throw overloaded(`The server is handling as many ${kind}s as it can; try again in a few seconds.`);
    }
    if (this.#limits.maxLagMs > 0 && this.#lagMs > this.#limits.maxLagMs) {
      throw overloaded('The server is too busy right now; try again in a few seconds.');
    }
    this.#inFlight[kind]++;
    res.once('close', () => {
      this.#inFlight[kind]--;
    });
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function overloaded(message: string): HeaderedError {
  return new HeaderedError('OVERLOADED', message, { 'Retry-After': String(RETRY_AFTER_S) });
}
