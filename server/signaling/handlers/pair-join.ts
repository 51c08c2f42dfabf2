/**
 * `pair-join`: enters another device's code. A right code is used up; both peers go into a
 * new pair room and get `paired` with its token. Wrong codes count against the network's
 * guess budget and the server's (all networks together), both checked before the code is
 * looked at, so a guesser learns nothing once over either.
 */
import { FerryError } from '../../../shared/errors.ts';
import { peerView } from '../bus.ts';
import { GLOBAL_KEY, type MessageHandler } from '../context.ts';
import { newPairRoom } from '../pairing.ts';

export const pairJoin: MessageHandler<'pair-join'> = async (ctx, message) => {
  const { peer, bus, pairing, pairRooms, limits } = ctx;
  const at = ctx.now();
  if (!(await limits.pairWrongGuess.available(peer.network, at))) {
    throw new FerryError('RATE_LIMITED', 'Too many wrong pairing codes from this network; try again in a few minutes.');
  }
  if (!(await limits.pairWrongGuessGlobal.available(GLOBAL_KEY, at))) {
    throw new FerryError(
      'RATE_LIMITED',
      'Too many wrong pairing codes were entered lately; try again in a few minutes.',
    );
  }
  const redeemed = await pairing.redeem(message.code, peer.id, at);
  if (!redeemed.ok) {
    if (redeemed.reason === 'own-code') throw new FerryError('BAD_REQUEST', 'This is your own pairing code.');
    await limits.pairWrongGuess.take(peer.network, at);
    await limits.pairWrongGuessGlobal.take(GLOBAL_KEY, at);
    throw new FerryError('PAIR_CODE_INVALID', 'This pairing code is wrong, expired or already used.');
  }
  const { room, token, tokenHash } = newPairRoom();
  // Kept first: a server with no room left refuses before anyone is put in the room.
  await pairRooms.create(room, tokenHash, at);
  if ((await bus.join(room, redeemed.creator)) !== 'joined') {
    throw new FerryError('PEER_NOT_REACHABLE', 'The device that made this code is no longer connected.');
  }
  if ((await bus.join(room, peer.id)) !== 'joined') {
    await bus.leave(room, redeemed.creator);
    throw new FerryError('ROOM_FULL', 'This connection is in too many rooms; leave one.');
  }
  const members = await bus.members(room);
  for (const member of members) {
    const peers = members.filter((m) => m.id !== member.id).map((m) => peerView(room, m));
    await bus.publish(member.id, { type: 'paired', room, roomToken: token, peers });
  }
};
