/**
 * The waiting a transfer session does (sender-session.ts, receiver-session.ts), in one
 * place: waits on a condition that is re-checked after every wake, so no promise per event
 * has to be kept, resolved or forgotten; and timers that all stop together when the session
 * settles (simple-peer's destroy clears every timer it set).
 *
 * Invariant: once `stop()` ran, every wait has resolved and resolves at once, and no timer
 * runs again, whichever was set first.
 */
export type SessionTimer = ReturnType<typeof setTimeout>;

export class SessionWaits {
  readonly #waiters = new Set<() => void>();
  readonly #timers = new Set<SessionTimer>();
  #stopped = false;

  /** True once `stop()` ran. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Resolves once `ready()` holds or the waits stopped; `ready` is checked again after every `wake`. */
  async until(ready: () => boolean): Promise<void> {
    while (!this.#stopped && !ready()) {
      await new Promise<void>((resolve) => this.#waiters.add(resolve));
    }
  }

  /** Something a wait may depend on changed: every wait checks its condition again. */
  wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Runs `run` once after `ms`, unless cleared or stopped before (after `stop()`, never). */
  timer(run: () => void, ms: number): SessionTimer {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    if (this.#stopped) clearTimeout(timer);
    else this.#timers.add(timer);
    return timer;
  }

  /** Cancels one timer (one that already ran, or none, is fine). */
  clear(timer: SessionTimer | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(timer);
  }

  /** The session settled: clears every timer and resolves every wait. Idempotent. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.wake();
  }
}
