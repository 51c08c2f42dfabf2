/**
 * `answer`, `ack`, `resume-at`, `complete`: the recipient about a transfer this page
 * sends; the engine's SenderSession ignores those about another transfer.
 */
import type { ControlHandler } from './context.ts';

export const toSender: ControlHandler<'answer' | 'ack' | 'resume-at' | 'complete'> = (ctx, message) => {
  ctx.outgoing()?.onControl(message);
};
