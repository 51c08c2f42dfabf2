/**
 * `mailbox-put`: a paired device leaves a sealed box for the other device of its pair room.
 * Only a member of the room, named by its device id, may; the box goes to the other device
 * at once when it is in the room, otherwise into the room's mailbox until it rejoins. The
 * server never reads `data`.
 */
import { FerryError } from '../../../shared/errors.ts';
import { roomKind, type SignalingBus } from '../bus.ts';
import type { MessageHandler } from '../context.ts';

export const mailboxPut: MessageHandler<'mailbox-put'> = async ({ peer, bus, mailbox, now }, message) => {
  const { room, to, data, expiresAt } = message;
  await mustBeMember(bus, peer.id, room, 'leave a message in it');
  if (peer.deviceId === null || peer.deviceId === to) {
    throw new FerryError('BAD_REQUEST', 'A message is left by one paired device for the other.');
  }
  const item = { from: peer.deviceId, to, data, expiresAt };
  const there = (await bus.members(room)).filter((member) => member.deviceId === to);
  let delivered = false;
  for (const member of there) {
    delivered =
      (await bus.publish(member.id, { type: 'mailbox', room, items: [{ from: item.from, data }] })) || delivered;
  }
  const id = delivered ? null : await mailbox.put(room, item, now());
  await bus.publish(peer.id, { type: 'mailbox-stored', room, delivered, id });
};

/** Refuses `peerId` unless it is in pair room `room`; `what` ends the sentence. */
export async function mustBeMember(bus: SignalingBus, peerId: string, room: string, what: string): Promise<void> {
  if (roomKind(room) !== 'pair') throw new FerryError('BAD_REQUEST', 'Messages can be left only in a pair room.');
  if (!(await bus.roomsOf(peerId)).includes(room)) {
    throw new FerryError('FORBIDDEN', `Only a device of this pairing can ${what}.`);
  }
}
