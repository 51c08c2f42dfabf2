/**
 * `relay`: opaque data (SDP, ICE candidates, the app's file offers) to one peer, only when
 * one room the two share allows that kind between them (relay-rules.ts). A share room
 * counts only while its share is live: one found dead is emptied on the spot
 * (share-rooms.ts). The server adds `from`; it never reads `data`.
 */
import { FerryError } from '../../../shared/errors.ts';
import { roomKind } from '../bus.ts';
import type { MessageHandler } from '../context.ts';
import { relayAllowed } from '../relay-rules.ts';
import { closeShareRoomIfDead } from '../share-rooms.ts';

export const relay: MessageHandler<'relay'> = async ({ peer, bus, shares, now }, message) => {
  const theirs = new Set(message.to === peer.id ? [] : await bus.roomsOf(message.to));
  let shared = false;
  let allowed = false;
  for (const room of await bus.roomsOf(peer.id)) {
    if (!theirs.has(room)) continue;
    const kind = roomKind(room);
    if (kind === 'share' && (await closeShareRoomIfDead(bus, shares, room, now()))) continue;
    shared = true;
    const members = kind === 'share' ? await bus.members(room) : [];
    const role = (id: string) => members.find((m) => m.id === id)?.role;
    if (relayAllowed(kind, message.kind, role(peer.id), role(message.to))) {
      allowed = true;
      break;
    }
  }
  if (shared && !allowed) {
    throw new FerryError('FORBIDDEN', `A "${message.kind}" message may not pass between you in any room you share.`);
  }
  if (
    !allowed ||
    !(await bus.publish(message.to, { type: 'relay', from: peer.id, kind: message.kind, data: message.data }))
  ) {
    throw new FerryError('PEER_NOT_REACHABLE', 'That peer is not in any room with you (or has left).');
  }
};
