/**
 * Page → service worker control messages (besides the receive side's `download`, in
 * receive/messages.ts). The worker parses what it receives and ignores anything else; a
 * message is never trusted by its type alone.
 */

/** Asks a waiting service worker to activate now (the page reloads on `controllerchange`). */
export type SwControl = { type: 'SKIP_WAITING' };

/** Parses a control message; undefined for anything that is not exactly one. */
export function parseSwControl(data: unknown): SwControl | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const keys = Object.keys(data);
  if (keys.length !== 1 || (data as { type?: unknown }).type !== 'SKIP_WAITING') return undefined;
  return { type: 'SKIP_WAITING' };
}
