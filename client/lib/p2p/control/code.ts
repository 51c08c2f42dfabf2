/** `code-commit`, `code-nonce`: a step of the verification code's exchange; one out of turn closes the link. */
import type { ControlHandler } from './context.ts';

export const codeStep: ControlHandler<'code-commit' | 'code-nonce'> = (ctx, message) => {
  ctx.connection.onCode(message).catch((error: unknown) => ctx.refuse(error));
};
