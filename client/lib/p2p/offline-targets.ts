/**
 * Paired devices that are not online: still targets. Their files go through the relay
 * share and their sealed offer waits in the pair room's mailbox until they rejoin it
 * (nearby.svelte.ts, server/signaling/mailbox.ts).
 */
import type { Pairing } from './p2p-db.ts';

/**
 * The remembered pairings whose device is in none of this page's rooms, one per device:
 * a device online anywhere (nearby or in a pair room) is its online tile instead, and a
 * device paired twice keeps its newest pairing. Pairings without a device id (never
 * announced) stand for themselves.
 */
export function offlineTargets(
  remembered: readonly Pairing[],
  online: readonly { deviceId: string | null }[],
): Pairing[] {
  const here = new Set(online.flatMap((peer) => (peer.deviceId ? [peer.deviceId] : [])));
  const newest = new Map<string, Pairing>();
  for (const pairing of remembered) {
    if (pairing.deviceId && here.has(pairing.deviceId)) continue;
    const key = pairing.deviceId || pairing.room;
    const held = newest.get(key);
    if (!held || pairing.createdAt >= held.createdAt) newest.set(key, pairing);
  }
  return [...newest.values()];
}

/** How long files wait on the server for an offline device, in words ("1 day", "12 hours"). */
export function waitInWords(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  if (days >= 1 && seconds % 86_400 === 0) return days === 1 ? '1 day' : `${days} days`;
  const hours = Math.max(1, Math.floor(seconds / 3600));
  return hours === 1 ? '1 hour' : `${hours} hours`;
}
