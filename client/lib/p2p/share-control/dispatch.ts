/**
 * The thin dispatcher of a share link's control messages: the handler for the message's
 * type in the side's table (index.ts). Unlike a device link's (control/dispatch.ts) it
 * waits for no handshake: ShareChannel hands on nothing before the other side's MAC verified.
 */
import type { ControlMessage } from '../../../../shared/p2p/frames.ts';
import type { ShareHandlers, ShareLinkContext } from './context.ts';

/** Hands one control message that arrived over a share link's channel to its handler in `handlers`. */
export function dispatchShareControl<Ctx extends ShareLinkContext>(
  handlers: ShareHandlers<Ctx>,
  ctx: Ctx,
  message: ControlMessage,
): void {
  const handle = handlers[message.type] as (ctx: Ctx, message: ControlMessage) => void;
  handle(ctx, message);
}
