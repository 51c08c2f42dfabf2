/**
 * What `relay` may carry in each kind of room, and between whom. Two peers may share several
 * rooms; a relay passes when one of them allows it. A room is for one thing only:
 * - `network` (devices nearby): WebRTC `signal` and the files offers on top of it;
 * - `pair` (paired devices): the same, plus their `pair-auth` proof and `offline` boxes;
 * - `share:<id>`: only `share-signal`, and only between the share's owner and a reader (a
 *   reader cannot reach another reader, nor send the owner's tab a nearby `signal` or an
 *   offer of files: issue 9).
 */
import type { RelayKind, RoomKind, ShareRole } from '../../shared/signaling.ts';

const NEARBY: readonly RelayKind[] = ['signal', 'offer-files', 'answer-files', 'cancel'];

export const RELAY_RULES: Record<RoomKind, { kinds: ReadonlySet<RelayKind>; roles?: 'owner-reader' }> = {
  network: { kinds: new Set(NEARBY) },
  pair: { kinds: new Set<RelayKind>([...NEARBY, 'pair-auth', 'offline']) },
  share: { kinds: new Set<RelayKind>(['share-signal']), roles: 'owner-reader' },
};

/** Whether a relay of `kind` from a member with role `from` to one with role `to` may pass in a room of `room` kind. */
export function relayAllowed(room: RoomKind, kind: RelayKind, from?: ShareRole, to?: ShareRole): boolean {
  const rule = RELAY_RULES[room];
  if (!rule.kinds.has(kind)) return false;
  if (rule.roles === 'owner-reader') {
    return (from === 'owner' && to === 'reader') || (from === 'reader' && to === 'owner');
  }
  return true;
}
