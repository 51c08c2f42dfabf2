import { describe, expect, it } from 'vitest';
import { PullWindow, WINDOW_RECORDS } from './pull-window.ts';

describe('PullWindow', () => {
  it('lets the sender run one window ahead of the acknowledgements, then waits', async () => {
    const window = new PullWindow(10, 1000);
    expect(window.room).toBe(WINDOW_RECORDS);
    window.sent(WINDOW_RECORDS);
    expect(window.room).toBe(0);
    let woke = false;
    const waiting = window.whenRoom().then(() => {
      woke = true;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    window.ack(10 + 16);
    await waiting;
    expect(woke).toBe(true);
    expect(window.room).toBe(16);
  });

  it('never counts an ack past what was sent, nor one that goes backwards', () => {
    const window = new PullWindow(0, 1000);
    window.sent(8);
    window.ack(500);
    expect(window.room).toBe(WINDOW_RECORDS);
    window.ack(2);
    expect(window.room).toBe(WINDOW_RECORDS);
  });

  it('ends at the last record and refuses to send past the window', () => {
    const window = new PullWindow(3, 5);
    expect(window.room).toBe(2);
    expect(() => window.sent(3)).toThrow(RangeError);
    window.sent(2);
    expect(window.done).toBe(true);
  });

  it('wakes a waiting sender when the pull stops', async () => {
    const window = new PullWindow(0, 1000);
    window.sent(WINDOW_RECORDS);
    const waiting = window.whenRoom();
    window.stop();
    await waiting;
    expect(window.stopped).toBe(true);
  });

  it.each([
    [-1, 10],
    [10, 10],
    [1.5, 10],
  ])('refuses a pull from record %s of %s', (from, end) => {
    expect(() => new PullWindow(from, end)).toThrow(RangeError);
  });
});
