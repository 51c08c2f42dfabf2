/**
 * Stands in for `@transloadit/prettier-bytes` (vite.config.ts aliases it here), which Uppy's
 * Dashboard and Restricter import directly and which counts in 1024s while calling them
 * "MB". Through this module the picker prints sizes as every other view does.
 */
import { formatBytes } from '../receive/format.ts';

/** prettier-bytes' signature; the unit argument is ignored: one convention everywhere. */
export function prettierBytes(input: number, _unit?: string): string {
  if (typeof input !== 'number' || Number.isNaN(input)) throw new TypeError(`Expected a number, got ${typeof input}`);
  return input < 0 ? `-${formatBytes(-input)}` : formatBytes(input);
}
