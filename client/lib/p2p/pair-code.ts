/**
 * Pairing codes as people type and share them, and the bookkeeping of `pair-rejoin`
 * answers. Pure functions and a small queue; no transport, no storage.
 */
import { PAIR_CODE_DIGITS, pairCodeSchema } from '../../../shared/signaling.ts';

/** The fragment of a pairing link: `<origin>/#pair=<code>`. */
export const PAIR_LINK_PREFIX = '#pair=';

/** The link that opens Ferry on another device and enters `code` there. */
export function pairingLink(origin: string, code: string): string {
  return `${origin}/${PAIR_LINK_PREFIX}${code}`;
}

/**
 * A typed code as the server wants it: spaces, dashes and dots that people add while
 * reading it aloud are dropped. Null when what is left is not PAIR_CODE_DIGITS digits.
 */
export function normalizePairCode(typed: string): string | null {
  const code = typed.replace(/[\s.\-\u2013\u2014]/g, '');
  return pairCodeSchema.safeParse(code).success ? code : null;
}

/** The code in a pairing link's fragment, or null when the fragment is not one. */
export function pairCodeFromHash(hash: string): string | null {
  if (!hash.startsWith(PAIR_LINK_PREFIX)) return null;
  try {
    return normalizePairCode(decodeURIComponent(hash.slice(PAIR_LINK_PREFIX.length)));
  } catch {
    return null; // a malformed %-escape (URIError)
  }
}

/** "123 456": easier to read out and compare than six digits in a row. */
export function groupPairCode(code: string): string {
  const half = Math.ceil(PAIR_CODE_DIGITS / 2);
  return `${code.slice(0, half)} ${code.slice(half)}`;
}

/**
 * Which rejoin a refusal answers. The server handles one connection's messages in order
 * and answers each `pair-rejoin` with either `room` (for that room) or one `error`; an
 * error names no room, so it belongs to the oldest rejoin still unanswered.
 */
export class RejoinQueue {
  #waiting: string[] = [];

  /** A `pair-rejoin` for `room` was sent. */
  sent(room: string): void {
    this.#waiting.push(room);
  }

  /** The server answered with `room`: that rejoin worked. */
  joined(room: string): void {
    const at = this.#waiting.indexOf(room);
    if (at >= 0) this.#waiting.splice(at, 1);
  }

  /** The server refused a rejoin: the room it refused, if one was waiting. */
  refused(): string | null {
    return this.#waiting.shift() ?? null;
  }

  /** The connection closed: no answer will come. */
  clear(): void {
    this.#waiting = [];
  }
}
