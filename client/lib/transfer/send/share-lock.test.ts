import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import { ALREADY_RUNNING, withShareLock } from './share-lock.ts';

/** A LockManager with ifAvailable semantics, enough for one process. */
function fakeLocks() {
  const held = new Set<string>();
  const requested: string[] = [];
  return {
    requested,
    async request(name: string, options: LockOptions, callback: (lock: Lock | null) => Promise<unknown>) {
      requested.push(name);
      if (held.has(name)) {
        expect(options.ifAvailable).toBe(true);
        return callback(null);
      }
      held.add(name);
      try {
        return await callback({ name, mode: 'exclusive' } as Lock);
      } finally {
        held.delete(name);
      }
    },
  } as unknown as LockManager & { requested: string[] };
}

describe('withShareLock', () => {
  it('runs the action under a lock named after the share', async () => {
    const locks = fakeLocks();
    await expect(withShareLock('abc', async () => 7, locks)).resolves.toBe(7);
    expect(locks.requested).toEqual(['ferry-share-abc']);
  });

  it('refuses a second run of the same share while the first holds the lock', async () => {
    const locks = fakeLocks();
    let release!: () => void;
    const first = withShareLock('abc', () => new Promise<void>((r) => (release = r)), locks);
    const second = withShareLock('abc', async () => 'ran', locks);
    await expect(second).rejects.toThrow(FerryError);
    await expect(second).rejects.toThrow(ALREADY_RUNNING);
    // Another share is not affected.
    await expect(withShareLock('other', async () => 'ran', locks)).resolves.toBe('ran');
    release();
    await first;
    await expect(withShareLock('abc', async () => 'ran', locks)).resolves.toBe('ran');
  });

  it('runs without locking where the browser has no Web Locks', async () => {
    await expect(withShareLock('abc', async () => 1, null)).resolves.toBe(1);
  });
});
