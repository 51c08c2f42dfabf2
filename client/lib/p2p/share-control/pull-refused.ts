/**
 * `pull-refused` (recipient's page): the sender's tab cannot serve a file (ended, not held,
 * no such record, a ticket the server refused); that file's records continue from the server.
 */
import type { ControlMessageOf } from '../../../../shared/p2p/frames.ts';
import type { SharePullContext } from './context.ts';

export function pullRefused(ctx: SharePullContext, message: ControlMessageOf<'pull-refused'>): void {
  ctx.records(message.file)?.lost();
}
