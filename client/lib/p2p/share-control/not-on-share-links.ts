/**
 * Every type a side of a share link does not read: the device messages (offer, answer,
 * pairing, text…), and what only the other side sends. As a message that does not parse
 * (PeerLink), it closes the channel with INVALID_MESSAGE and a sentence naming the type.
 * `auth` is in this slot too but never arrives here: ShareChannel reads it itself.
 */
import { FerryError } from '../../../../shared/errors.ts';
import type { ControlMessage } from '../../../../shared/p2p/frames.ts';
import type { ShareLinkContext } from './context.ts';

export function notOnShareLinks(ctx: ShareLinkContext, message: ControlMessage): void {
  ctx.close(new FerryError('INVALID_MESSAGE', `${ctx.from} sent “${message.type}”, which a share link does not use.`));
}
