/**
 * The reconnection loop after a drop mid-send, with real timers and short delays: it
 * resumes over the first connection that confirms, closes each one that does not, gives
 * up at once when ICE finds no route, when the device leaves or the window passes, and
 * then relays, once.
 */
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../shared/errors.ts';
import { type Reconnection, reconnect } from './reconnect.ts';

const FAST = { windowMs: 1500, firstDelayMs: 10, maxDelayMs: 40 };
const noRoute = new FerryError('PEER_NOT_REACHABLE', 'ICE failed');

interface Attempt {
  confirmed: Promise<void>;
  at: number;
}

/** A reconnection whose n-th connection confirms (or fails) as `outcomes[n]` says; records what the loop did. */
function script(outcomes: ('confirm' | 'fail' | 'no-route' | 'never' | 'no-server')[], present = () => true) {
  const log: string[] = [];
  const attempts: Attempt[] = [];
  let waiting = true;
  const started = Date.now();
  const r: Reconnection<Attempt> = {
    waiting: () => waiting,
    present,
    connect: () => {
      const outcome = outcomes[attempts.length] ?? 'never';
      if (outcome === 'no-server') {
        attempts.push({ confirmed: new Promise(() => {}), at: Date.now() - started });
        log.push('no server');
        return null;
      }
      const confirmed =
        outcome === 'confirm'
          ? Promise.resolve()
          : outcome === 'never'
            ? new Promise<void>(() => {})
            : Promise.reject(outcome === 'no-route' ? noRoute : new FerryError('NETWORK_ERROR', 'closed'));
      confirmed.catch(() => {});
      const attempt = { confirmed, at: Date.now() - started };
      attempts.push(attempt);
      log.push(`connect ${attempts.length}`);
      return attempt;
    },
    resume: async (attempt) => {
      log.push(`resume ${attempts.indexOf(attempt) + 1}`);
      waiting = false;
    },
    failed: (attempt, error) => log.push(`close ${attempts.indexOf(attempt) + 1}: ${(error as FerryError).code}`),
    hopeless: (error) => error === noRoute,
    relay: () => log.push('relay'),
  };
  return { r, log, attempts, stopWaiting: () => (waiting = false) };
}

describe('reconnect', () => {
  it('closes a connection that failed and resumes over the next one that confirms', async () => {
    const { r, log, attempts } = script(['fail', 'no-server', 'confirm']);
    expect(await reconnect(r, FAST)).toBe('resumed');
    expect(log).toEqual(['connect 1', 'close 1: NETWORK_ERROR', 'no server', 'connect 3', 'resume 3']);
    // Each attempt waited longer than the one before (10, 20, 40 ms), never past the cap.
    const gaps = attempts.map((a, i) => a.at - (attempts[i - 1]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[1]).toBeGreaterThanOrEqual(19);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
  });

  it('relays at once when ICE finds no route', async () => {
    const { r, log } = script(['no-route', 'confirm']);
    expect(await reconnect(r, FAST)).toBe('relayed');
    expect(log).toEqual(['connect 1', 'close 1: PEER_NOT_REACHABLE', 'relay']);
  });

  it('relays once the window has passed, closing the connection that never confirmed', async () => {
    const { r, log } = script(['never']);
    const started = Date.now();
    expect(await reconnect(r, { ...FAST, windowMs: 300 })).toBe('relayed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(log).toEqual(['connect 1', 'close 1: NETWORK_ERROR', 'relay']);
  });

  it('relays without connecting when the device has left', async () => {
    const { r, log } = script(['confirm'], () => false);
    expect(await reconnect(r, FAST)).toBe('relayed');
    expect(log).toEqual(['relay']);
  });

  it('connects no more once the transfer stopped waiting (cancelled meanwhile)', async () => {
    const { r, log, stopWaiting } = script(['confirm']);
    const done = reconnect(r, FAST);
    stopWaiting();
    expect(await done).toBe('relayed');
    expect(log).toEqual(['relay']);
  });
});
