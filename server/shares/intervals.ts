/**
 * Byte coverage of one file of a download ticket, as sorted, disjoint, non-adjacent
 * half-open intervals [start, end). A file counts as sent when [0, size) is covered.
 */
export type Interval = [start: number, end: number];

/**
 * Most separate pieces one file of one ticket may be fetched in. Every GET re-reads and
 * rewrites the list, so it must stay small; a client resuming where it stopped never
 * needs more than one.
 */
export const MAX_PIECES = 64;

/** Whether sending bytes from `start` on would add a piece to a list already at MAX_PIECES. */
export function wouldAddPiece(list: readonly Interval[], start: number): boolean {
  return list.length >= MAX_PIECES && !list.some(([s, e]) => s <= start && start <= e);
}

/** Adds [start, end) and merges; the input list is not modified. */
export function addInterval(list: readonly Interval[], start: number, end: number): Interval[] {
  if (end <= start) return list.map(([s, e]) => [s, e]);
  const out: Interval[] = [];
  let merged: Interval = [start, end];
  let placed = false;
  for (const [s, e] of list) {
    if (e < merged[0]) out.push([s, e]);
    else if (s > merged[1]) {
      if (!placed) {
        out.push(merged);
        placed = true;
      }
      out.push([s, e]);
    } else merged = [Math.min(s, merged[0]), Math.max(e, merged[1])];
  }
  if (!placed) out.push(merged);
  return out;
}

export function coversAll(list: readonly Interval[], size: number): boolean {
  if (size === 0) return true;
  const first = list[0];
  return list.length === 1 && first !== undefined && first[0] <= 0 && first[1] >= size;
}

/** Parses stored coverage, tolerating nothing malformed. */
export function parseIntervals(text: string): Interval[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) throw new TypeError('coverage is not a list');
  return value.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every(Number.isSafeInteger)) {
      throw new TypeError('bad coverage interval');
    }
    return [pair[0] as number, pair[1] as number];
  });
}
