/** `pull-ack` (sender's tab): the recipient consumed a file's records before `next`; the window moves on. */
import type { ControlMessageOf } from '../../../../shared/p2p/frames.ts';
import type { ShareHostContext } from './context.ts';

export function pullAck(ctx: ShareHostContext, message: ControlMessageOf<'pull-ack'>): void {
  ctx.pull(message.file)?.ack(message.next);
}
