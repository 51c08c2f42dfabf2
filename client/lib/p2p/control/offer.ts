/**
 * `offer`: the device's files, shown for the person to accept. The verification code is
 * compared once per connection: not again once this person vouched for it (confirmed it
 * while pairing, or accepted an earlier offer that showed it). An offer of a transfer
 * already running here is ignored.
 */
import type { ControlHandler } from './context.ts';

export const offer: ControlHandler<'offer'> = (ctx, message) => {
  if (ctx.incoming().some((t) => t.active && t.id === message.transfer)) return;
  ctx.offered(message, ctx.connection.vouched ? null : ctx.connection.code);
};
