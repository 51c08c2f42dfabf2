/** tus's MemoryLocker, Ferry's lock on one node, passes the locker suite (the Redis locker runs it in redis-locker.test.ts). */
import { MemoryLocker } from '@tus/server';
import { lockerConformance } from './locker.conformance.ts';

lockerConformance('memory', async ({ acquireTimeoutMs }) => {
  // 30 s: MemoryLocker's own default.
  const locker = new MemoryLocker({ acquireLockTimeout: acquireTimeoutMs ?? 30_000 });
  return [locker, locker];
});
