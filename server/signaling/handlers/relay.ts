/**
 * `relay`: opaque data (SDP, ICE candidates, the app's file offers) to one peer, only when
 * the two share a room. The server adds `from`; it never reads `data`.
 */
import { FerryError } from '../../../shared/errors.ts';
import type { MessageHandler } from '../context.ts';

export const relay: MessageHandler<'relay'> = async ({ peer, bus }, message) => {
  const reachable = message.to !== peer.id && (await bus.together(peer.id, message.to));
  if (
    !reachable ||
    !(await bus.publish(message.to, { type: 'relay', from: peer.id, kind: message.kind, data: message.data }))
  ) {
    throw new FerryError('PEER_NOT_REACHABLE', 'That peer is not in any room with you (or has left).');
  }
};
