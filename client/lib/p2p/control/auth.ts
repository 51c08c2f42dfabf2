/** `auth`: the other side's MAC (MAC mode); one that does not verify closes the link with auth.ts's sentence. */
import type { ControlHandler } from './context.ts';

export const auth: ControlHandler<'auth'> = (ctx, message) => {
  ctx.connection.onAuth(message.mac).catch((error: unknown) => ctx.refuse(error));
};
