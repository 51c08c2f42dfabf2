/** `pair-rejoin`: back into a remembered pair room with the token from `paired`. */
import { FerryError } from '../../../shared/errors.ts';
import type { MessageHandler } from '../context.ts';
import { hashToken } from '../pairing.ts';
import { enterRoom } from '../room-events.ts';

export const pairRejoin: MessageHandler<'pair-rejoin'> = async ({ peer, bus, pairRooms, now }, message) => {
  if (!message.room.startsWith('pair:')) throw new FerryError('BAD_REQUEST', 'Only pair rooms can be rejoined.');
  if (!(await pairRooms.verify(message.room, hashToken(message.roomToken), now()))) {
    throw new FerryError('UNAUTHORIZED', 'This pairing is unknown or has expired; pair the devices again.');
  }
  await enterRoom(bus, message.room, peer.id);
};
