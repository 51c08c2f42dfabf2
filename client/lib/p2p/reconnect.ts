/**
 * Connecting again after a data channel dropped mid-send: with backoff, for at most
 * RECONNECT_WINDOW_MS, and resuming over the first connection that is confirmed; when the
 * device has left, the window passes or ICE finds no route, the rest goes through the
 * relay. The loop knows nothing of links or transfers: `Reconnection` is what it needs
 * (connections.svelte.ts gives it a PeerSend and the page's connections).
 */
import { beforeDeadline, RECONNECT_WINDOW_MS } from '../../../shared/p2p/relay.ts';

/** First pause before connecting again (the other side notices the drop meanwhile), then doubling. */
export const RECONNECT_FIRST_DELAY_MS = 250;
export const RECONNECT_MAX_DELAY_MS = 4000;

/** What one reconnection works with. */
export interface Reconnection<C extends { confirmed: Promise<void> }> {
  /** The transfer still waits to resume (not cancelled, not resumed by other means). */
  waiting(): boolean;
  /** The other device is still in one of this page's rooms. */
  present(): boolean;
  /** A new connection to the device, or null when none can be made now (no server). */
  connect(): C | null;
  /** Resumes the transfer over a confirmed connection. */
  resume(connection: C): Promise<void>;
  /** `connection` did not confirm in time, or the resume failed: close it. */
  failed(connection: C, error: unknown): void;
  /** True for an error that says no connection will open (ICE found no route). */
  hopeless(error: unknown): boolean;
  /** No connection came back: the rest goes through the relay. */
  relay(): void;
}

export interface ReconnectTiming {
  windowMs: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

const TIMING: ReconnectTiming = {
  windowMs: RECONNECT_WINDOW_MS,
  firstDelayMs: RECONNECT_FIRST_DELAY_MS,
  maxDelayMs: RECONNECT_MAX_DELAY_MS,
};

/**
 * Runs one reconnection to its end: 'resumed' over a new connection, or 'relayed' (after
 * `relay()` was called once). Each attempt waits its delay first, so the other side has
 * noticed the drop before a new offer reaches it.
 */
export async function reconnect<C extends { confirmed: Promise<void> }>(
  r: Reconnection<C>,
  timing: ReconnectTiming = TIMING,
): Promise<'resumed' | 'relayed'> {
  const deadline = Date.now() + timing.windowMs;
  let delay = timing.firstDelayMs;
  while (r.waiting() && Date.now() < deadline && r.present()) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, timing.maxDelayMs);
    const connection = r.waiting() ? r.connect() : null;
    if (!connection) continue;
    try {
      await beforeDeadline(connection.confirmed, deadline);
      await r.resume(connection);
      return 'resumed';
    } catch (error) {
      r.failed(connection, error);
      if (r.hopeless(error)) break;
    }
  }
  r.relay();
  return 'relayed';
}
