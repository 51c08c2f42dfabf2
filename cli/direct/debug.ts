/**
 * FERRY_DEBUG=1: what a direct connection does, on stderr, each line stamped with the
 * milliseconds since the command started (for a connection that does not open: where it
 * stopped and how long each step took). Never a secret: signaling messages by type and
 * sender, SDP and candidates as they are (they carry no key).
 */
const on = !!process.env.FERRY_DEBUG;
const started = performance.now();

/** Writes `line` on stderr when FERRY_DEBUG is set. */
export function debug(line: string): void {
  if (on) process.stderr.write(`ferry debug: +${Math.round(performance.now() - started)} ms ${line}\n`);
}
