/**
 * Where a peer transfer continues when the peer does not come back: a share on Ferry's
 * server (the tus relay) whose id both sides derive from the transfer's secret
 * (keys.ts `relayShareId`), so the recipient knows where to look without any message. Its reader token and manifest are
 * those of the transfer (the same secret, so deriveShareKeys gives the same keys), and
 * each file is uploaded only from the first record the sender knows the recipient lacks.
 */
import { FerryError } from '../errors.ts';

/** How long the sender tries to reach the same peer again before switching to the relay. */
export const RECONNECT_WINDOW_MS = 20_000;
/** How long a recipient whose peer dropped waits for the relay share to appear. */
export const RELAY_WAIT_MS = 2 * 60_000;
/** How often the recipient looks for the relay share, and for more bytes of a growing file. */
export const RELAY_POLL_MS = 500;
/** A relay share lives this long: enough to finish, not a link anyone keeps. */
export const RELAY_EXPIRY_SECONDS = 24 * 60 * 60;

/** `promise`, or a NETWORK_ERROR once `deadline` (ms since the epoch) passes (a reconnection's window). */
export async function beforeDeadline<T>(
  promise: Promise<T>,
  deadline: number,
  message = 'The other device could not be reached again in time.',
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FerryError('NETWORK_ERROR', message)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
