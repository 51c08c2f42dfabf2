/** `pull` (sender's tab): a recipient asks for a file's records from one on. */
import type { ControlMessageOf } from '../../../../shared/p2p/frames.ts';
import type { ShareHostContext } from './context.ts';

export function pull(ctx: ShareHostContext, message: ControlMessageOf<'pull'>): void {
  ctx.serve(message);
}
