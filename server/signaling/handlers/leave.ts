/** `leave`: out of a pair or share room; the network room is left only by disconnecting. */
import { FerryError } from '../../../shared/errors.ts';
import type { MessageHandler } from '../context.ts';
import { announceLeft } from '../room-events.ts';

export const leave: MessageHandler<'leave'> = async ({ peer, bus }, message) => {
  if (message.room === peer.networkRoom) throw new FerryError('BAD_REQUEST', 'The network room cannot be left.');
  if (!(await bus.leave(message.room, peer.id))) throw new FerryError('NOT_FOUND', 'You are not in this room.');
  await announceLeft(bus, message.room, peer.id);
};
