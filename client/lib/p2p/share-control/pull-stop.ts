/** `pull-stop` (sender's tab): the recipient no longer wants a file's records (it has them, or went to the server). */
import type { ControlMessageOf } from '../../../../shared/p2p/frames.ts';
import type { ShareHostContext } from './context.ts';

export function pullStop(ctx: ShareHostContext, message: ControlMessageOf<'pull-stop'>): void {
  ctx.pull(message.file)?.stop();
  ctx.forget(message.file);
}
