/** `pair-secret`, `pair-saved`: the steps of a pairing's first connection (pairings.svelte.ts). */
import type { ControlHandler } from './context.ts';

export const pairingStep: ControlHandler<'pair-secret' | 'pair-saved'> = (ctx, message) => {
  ctx.pairing(message);
};
