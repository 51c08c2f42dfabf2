/**
 * `cancel`: either side stopped a transfer, so both directions hear it: the transfer this
 * page sends to the device and those it receives from it each check that it names them.
 */
import type { ControlHandler } from './context.ts';

export const cancel: ControlHandler<'cancel'> = (ctx, message) => {
  ctx.outgoing()?.onControl(message);
  for (const transfer of ctx.incoming()) if (transfer.peerId === ctx.peerId) transfer.onControl(message);
};
