/**
 * `mailbox-withdraw`: the device that left a box in its pair room's mailbox takes it back
 * before the other device came for it (the sender withdrew an offer). The box is named by
 * the id `mailbox-stored` gave it, and the store forgets it only when this device, known by
 * its id in a room it is a member of, is the one that left it: the other device of the room
 * (or anyone else) gets `withdrawn: false` and the box stays. A box already handed over
 * cannot be taken back, which the answer says the same way.
 */
import type { MessageHandler } from '../context.ts';
import { mustBeMember } from './mailbox-put.ts';

export const mailboxWithdraw: MessageHandler<'mailbox-withdraw'> = async ({ peer, bus, mailbox, now }, message) => {
  const { room, id } = message;
  await mustBeMember(bus, peer.id, room, 'withdraw a message from it');
  const withdrawn = peer.deviceId !== null && (await mailbox.withdraw(room, id, peer.deviceId, now()));
  await bus.publish(peer.id, { type: 'mailbox-withdrawn', room, id, withdrawn });
};
