/**
 * `resume`: the sender reconnected after a drop. Read only on a connection whose MAC was
 * keyed with this very transfer's secret; the transfer answers with `resume-at`. A resume
 * that fails closes the new link.
 */
import type { ControlHandler } from './context.ts';

export const resume: ControlHandler<'resume'> = (ctx, message) => {
  if (ctx.resuming() !== message.transfer) return;
  const transfer = ctx.incoming().find((t) => t.peerId === ctx.peerId && t.id === message.transfer);
  transfer?.resumeOn(ctx.connection.link).catch((error: unknown) => ctx.drop(error));
};
