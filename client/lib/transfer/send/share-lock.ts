/**
 * One tab at a time per share. Two tabs resuming the same share would each encrypt under
 * the same keys and nonces, and from different File objects; so a run holds a Web Lock
 * named after the share for as long as it lasts, and a second tab is told, not queued.
 */
import { FerryError } from '../../../../shared/errors.ts';

export const ALREADY_RUNNING = 'This upload is already running in another tab.';

type Locks = Pick<LockManager, 'request'>;

/** Runs `action` while holding the share's lock; CONFLICT at once when another tab holds it. */
export async function withShareLock<T>(
  shareId: string,
  action: () => Promise<T>,
  locks: Locks | null | undefined = globalThis.navigator?.locks,
): Promise<T> {
  // Web Locks exist wherever Ferry can run (secure contexts); without them the coverage
  // gate's digest check is the remaining guard.
  if (!locks) return action();
  return locks.request(`ferry-share-${shareId}`, { ifAvailable: true }, async (lock) => {
    if (!lock) throw new FerryError('CONFLICT', ALREADY_RUNNING);
    return action();
  }) as Promise<T>;
}
