/**
 * What every tus `Locker` Ferry runs must do (tus 1.0 leaves concurrency to the server;
 * @tus/server takes a lock per upload around every HEAD, PATCH and DELETE): tus's own
 * MemoryLocker (one process) and the Redis locker (redis-locker.ts, any number of nodes) both
 * run this suite, in the spirit of tus-node-server's Locker tests. `make` gives two lockers
 * that contend for the same uploads, standing for two nodes (for MemoryLocker, one locker
 * twice: a process is its only node).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ERRORS, type Lock, type Locker } from '@tus/server';
import { describe, expect, it } from 'vitest';

/** Starts `lock` waiting (ignoring release requests); `taken` says whether it holds the upload yet. */
export function startTaking(lock: Lock): { done: Promise<void>; taken(): boolean } {
  let taken = false;
  const done = lock
    .lock(new AbortController().signal, () => undefined)
    .then(() => {
      taken = true;
    });
  return { done, taken: () => taken };
}

export type MakeLockers = (options: { acquireTimeoutMs?: number }) => Promise<[Locker, Locker]>;

const uploadId = () => randomBytes(8).toString('hex');
const never = () => new AbortController().signal;

export function lockerConformance(name: string, make: MakeLockers): void {
  describe(`${name} locker`, () => {
    it('gives an upload to one holder at a time: a waiter asks the holder to release and gets it once it unlocks', async () => {
      const [a, b] = await make({});
      const id = uploadId();
      const held = a.newLock(id);
      let asked = 0;
      await held.lock(never(), () => {
        asked++;
      });
      const waiter = b.newLock(id);
      const taking = startTaking(waiter);
      await sleep(300);
      expect(taking.taken()).toBe(false);
      expect(asked).toBeGreaterThanOrEqual(1);
      await held.unlock();
      await taking.done;
      await waiter.unlock();
    });

    it('hands the upload over at once when the holder releases on request, as a tus request does', async () => {
      const [a, b] = await make({});
      const id = uploadId();
      const held = a.newLock(id);
      let cancelled = 0;
      // tus: requestRelease cancels the request, whose handler then unlocks.
      await held.lock(never(), async () => {
        cancelled++;
        await held.unlock();
      });
      const started = Date.now();
      const waiter = b.newLock(id);
      let askedWaiter = 0;
      await waiter.lock(never(), () => {
        askedWaiter++;
      });
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(cancelled).toBe(1);
      expect(askedWaiter).toBe(0);
      await waiter.unlock();
    });

    it("refuses with tus's ERR_LOCK_TIMEOUT after the acquire timeout while the holder keeps its lock", async () => {
      const [a, b] = await make({ acquireTimeoutMs: 500 });
      const id = uploadId();
      const held = a.newLock(id);
      await held.lock(never(), () => undefined);
      const started = Date.now();
      await expect(b.newLock(id).lock(never(), () => undefined)).rejects.toBe(ERRORS.ERR_LOCK_TIMEOUT);
      expect(Date.now() - started).toBeGreaterThanOrEqual(450);
      await held.unlock();
    });

    it('stops waiting when the waiting request goes away, and leaves the lock to its holder', async () => {
      const [a, b] = await make({ acquireTimeoutMs: 5_000 });
      const id = uploadId();
      const held = a.newLock(id);
      await held.lock(never(), () => undefined);
      const gone = new AbortController();
      const waiting = b.newLock(id).lock(gone.signal, () => undefined);
      await sleep(100);
      const aborted = Date.now();
      gone.abort();
      await expect(waiting).rejects.toBe(ERRORS.ERR_LOCK_TIMEOUT);
      expect(Date.now() - aborted).toBeLessThan(500);
      // The holder still has it: a third request gets it only after the unlock.
      const third = b.newLock(id);
      const taking = startTaking(third);
      await sleep(200);
      expect(taking.taken()).toBe(false);
      await held.unlock();
      await taking.done;
      await third.unlock();
    });

    it('keeps different uploads apart, and refuses to unlock a lock not held', async () => {
      const [a, b] = await make({});
      const first = a.newLock(uploadId());
      const second = b.newLock(uploadId());
      await first.lock(never(), () => undefined);
      await second.lock(never(), () => undefined);
      await first.unlock();
      await second.unlock();
      await expect(first.unlock()).rejects.toThrow('Releasing an unlocked lock!');
    });
  });
}
