/** `pair-create`: a new 6-digit code for this peer (its previous one stops working). */
import { FerryError } from '../../../shared/errors.ts';
import type { MessageHandler } from '../context.ts';

export const pairCreate: MessageHandler<'pair-create'> = async ({ peer, pairing, limits, now }) => {
  const at = now();
  if (!(await limits.pairCreate.take(peer.network, at)).ok) {
    throw new FerryError('RATE_LIMITED', 'Too many pairing codes from this network; try again in a few minutes.');
  }
  const created = await pairing.create(peer.id, at);
  if (!created) throw new FerryError('RATE_LIMITED', 'Too many pairing codes are open right now; try again soon.');
  peer.send({ type: 'pair-code', ...created });
};
