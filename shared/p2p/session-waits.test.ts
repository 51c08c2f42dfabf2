import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionWaits } from './session-waits.ts';

/** Whether `promise` has settled once pending microtasks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

describe('SessionWaits.until', () => {
  it('resolves at once when the condition already holds', async () => {
    const waits = new SessionWaits();
    expect(await settled(waits.until(() => true))).toBe(true);
  });

  it('checks the condition again at each wake, and resolves only once it holds', async () => {
    const waits = new SessionWaits();
    let value = 0;
    let checks = 0;
    const wait = waits.until(() => {
      checks++;
      return value >= 2;
    });
    expect(await settled(wait)).toBe(false);
    value = 1;
    waits.wake();
    expect(await settled(wait)).toBe(false);
    value = 2;
    expect(await settled(wait)).toBe(false); // nothing woke it yet
    waits.wake();
    expect(await settled(wait)).toBe(true);
    expect(checks).toBe(3);
  });

  it('wakes every wait with one wake', async () => {
    const waits = new SessionWaits();
    let open = false;
    const all = [1, 2, 3].map(() => waits.until(() => open));
    open = true;
    waits.wake();
    expect(await settled(Promise.all(all))).toBe(true);
  });

  it('stop resolves every wait whose condition never holds, and every later one at once', async () => {
    const waits = new SessionWaits();
    const wait = waits.until(() => false);
    expect(await settled(wait)).toBe(false);
    waits.stop();
    expect(waits.stopped).toBe(true);
    expect(await settled(wait)).toBe(true);
    expect(await settled(waits.until(() => false))).toBe(true);
  });
});

describe('SessionWaits timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a timer once after its time, not before', () => {
    const waits = new SessionWaits();
    const run = vi.fn();
    const timer = waits.timer(run, 100);
    vi.advanceTimersByTime(99);
    expect(run).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
    // Clearing one that ran already does nothing.
    waits.clear(timer);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('clear cancels one timer and leaves the others', () => {
    const waits = new SessionWaits();
    const cleared = vi.fn();
    const kept = vi.fn();
    const timer = waits.timer(cleared, 100);
    waits.timer(kept, 100);
    waits.clear(timer);
    waits.clear(undefined);
    vi.advanceTimersByTime(100);
    expect(cleared).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledTimes(1);
  });

  it('stop clears every pending timer, and a timer set after stop never runs', () => {
    const waits = new SessionWaits();
    const run = vi.fn();
    waits.timer(run, 100);
    waits.timer(run, 200);
    waits.stop();
    waits.stop();
    waits.timer(run, 50);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(run).not.toHaveBeenCalled();
  });
});
