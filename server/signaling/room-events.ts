/**
 * Entering and leaving rooms with the events that go with them: the peer that enters gets
 * `room` (who is already there), the others get `peer-joined`; leaving sends `peer-left`.
 * Used by the handlers and by connect/disconnect, so every path announces the same way.
 */
import { FerryError } from '../../shared/errors.ts';
import type { ServerMessage, ShareRole } from '../../shared/signaling.ts';
import { peerView, roomKind, type SignalingBus } from './bus.ts';

/** Joins `peerId` to `room` and announces it; throws ROOM_FULL / PEER_NOT_REACHABLE. */
export async function enterRoom(
  bus: SignalingBus,
  room: string,
  peerId: string,
  opts: { role?: ShareRole; quiet?: boolean } = {},
): Promise<void> {
  const result = await bus.join(room, peerId, opts.role);
  if (result === 'unknown-peer') throw new FerryError('PEER_NOT_REACHABLE', 'That peer is no longer connected.');
  if (result === 'room-full') throw new FerryError('ROOM_FULL', 'This room is full.');
  if (result === 'too-many-rooms')
    throw new FerryError('ROOM_FULL', 'This connection is in too many rooms; leave one.');
  const members = await bus.members(room);
  const self = members.find((m) => m.id === peerId);
  if (!opts.quiet) {
    const peers = members.filter((m) => m.id !== peerId).map((m) => peerView(room, m));
    await bus.publish(peerId, { type: 'room', room, kind: roomKind(room), peers });
  }
  // Rejoining (same connection) changes nothing for the others, unless the role changed.
  if (self && result === 'joined')
    await broadcast(bus, room, peerId, { type: 'peer-joined', room, peer: peerView(room, self) });
  else if (self && opts.role)
    await broadcast(bus, room, peerId, { type: 'peer-updated', room, peer: peerView(room, self) });
}

/** Announces that `peerId` has left `room` (it is no longer a member). */
export async function announceLeft(bus: SignalingBus, room: string, peerId: string): Promise<void> {
  await broadcast(bus, room, peerId, { type: 'peer-left', room, peerId });
}

/** Tells every room of `peerId` its new record (after `hello`). */
export async function announceUpdate(bus: SignalingBus, peerId: string): Promise<void> {
  for (const room of await bus.roomsOf(peerId)) {
    const self = (await bus.members(room)).find((m) => m.id === peerId);
    if (self) await broadcast(bus, room, peerId, { type: 'peer-updated', room, peer: peerView(room, self) });
  }
}

/** Sends to every member of `room` except `except`. */
export async function broadcast(
  bus: SignalingBus,
  room: string,
  except: string,
  message: ServerMessage,
): Promise<void> {
  for (const member of await bus.members(room)) {
    if (member.id !== except) await bus.publish(member.id, message);
  }
}
