/**
 * A share room (`share:<id>`) lives only as long as its share. Membership is checked at
 * `share-join`; after that a revoke or the expiry must empty the room at once, or its
 * members could keep relaying (issue 9). Each member left behind is told with an `error`
 * of `share-join` (SHARE_REVOKED / SHARE_EXPIRED: the owner's tab stops serving) and a
 * `peer-left` for every other member (open channels close).
 */
import { FerryError } from '../../shared/errors.ts';
import { loadLiveShare } from '../shares/access.ts';
import type { ShareStore } from '../shares/store.ts';
import { roomKind, type SignalingBus } from './bus.ts';

/** Empties share room `room` if its share is no longer live; true when it did. */
export async function closeShareRoomIfDead(
  bus: SignalingBus,
  shares: ShareStore,
  room: string,
  now: number,
): Promise<boolean> {
  if (roomKind(room) !== 'share') return false;
  try {
    await loadLiveShare(shares, room.slice('share:'.length), now);
    return false;
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
    await evict(bus, room, error);
    return true;
  }
}

async function evict(bus: SignalingBus, room: string, why: FerryError): Promise<void> {
  const members = await bus.members(room);
  for (const member of members) await bus.leave(room, member.id);
  for (const member of members) {
    await bus.publish(member.id, { type: 'error', code: why.code, message: why.message, of: 'share-join' });
    for (const other of members) {
      if (other.id !== member.id) await bus.publish(member.id, { type: 'peer-left', room, peerId: other.id });
    }
  }
}
