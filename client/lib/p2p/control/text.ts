/** `text`: a short text from the device, shown as plain text. */
import type { ControlHandler } from './context.ts';

export const text: ControlHandler<'text'> = (ctx, message) => {
  ctx.text(message.text);
};
