/**
 * The thin dispatcher of a device link's control messages: the handler for the message's
 * type (index.ts), after the handshake allows it. A text frame that does not parse never
 * gets here: PeerLink closes the link with INVALID_MESSAGE and frames.ts's reason; a valid
 * message a device link does not use closes it the same way (not-on-device-links.ts).
 */
import type { ControlMessage } from '../../../../shared/p2p/frames.ts';
import type { ControlContext, ControlHandler, ControlType } from './context.ts';
import { CONTROL_HANDLERS } from './index.ts';

/** Read as they arrive: the handshake's own messages. Every other type waits for `verified`. */
export const HANDSHAKE_TYPES: ReadonlySet<ControlType> = new Set(['auth', 'code-commit', 'code-nonce']);

/** Hands one control message from `ctx.peerId` over `ctx.connection` to its handler. */
export function dispatchControl<Link>(ctx: ControlContext<Link>, message: ControlMessage): void {
  const handle = CONTROL_HANDLERS[message.type] as ControlHandler<typeof message.type>;
  if (HANDSHAKE_TYPES.has(message.type)) {
    handle(ctx, message as never);
    return;
  }
  // Nothing else is read before the other side's MAC verified (MAC mode) or the code
  // exists (code mode); promise callbacks run in the order they were added, so messages
  // keep their order. A handshake that fails drops the message.
  ctx.connection.verified.then(
    () => handle(ctx, message as never),
    () => {},
  );
}
