/**
 * `pair-rejoin`: back into a remembered pair room with the token from `paired`; then the
 * boxes the other device left in the room's mailbox meanwhile, if any.
 */
import { FerryError } from '../../../shared/errors.ts';
import type { MessageHandler } from '../context.ts';
import { hashToken } from '../pairing.ts';
import { enterRoom } from '../room-events.ts';

export const pairRejoin: MessageHandler<'pair-rejoin'> = async ({ peer, bus, pairRooms, mailbox, now }, message) => {
  if (!message.room.startsWith('pair:')) throw new FerryError('BAD_REQUEST', 'Only pair rooms can be rejoined.');
  if (!(await pairRooms.verify(message.room, hashToken(message.roomToken), now()))) {
    throw new FerryError('UNAUTHORIZED', 'This pairing is unknown or has expired; pair the devices again.');
  }
  await enterRoom(bus, message.room, peer.id);
  if (peer.deviceId === null) return;
  const items = await mailbox.take(message.room, peer.deviceId, now());
  if (items.length > 0) {
    const waiting = items.map(({ from, data }) => ({ from, data }));
    await bus.publish(peer.id, { type: 'mailbox', room: message.room, items: waiting });
  }
};
