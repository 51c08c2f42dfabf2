/**
 * HTTP Range for one byte range (RFC 9110 §14.1.2): `bytes=a-b`, `bytes=a-`, `bytes=-n`.
 * Anything else that is syntactically not a single byte range is ignored (the whole file
 * is sent, which §14.2 allows); several ranges are likewise answered with the whole file.
 * The server reads ciphertext ranges with it, the preview worker plaintext ranges.
 */
export type RangeResult =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

/** `end` is inclusive, as in Content-Range. */
export function parseRange(header: string | null | undefined, size: number): RangeResult {
  if (header === undefined || header === null) return { kind: 'full' };
  const match = SINGLE.exec(header.trim());
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    // Suffix range: the last n bytes; n = 0 can never be satisfied (§14.1.2).
    const n = Number(last);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last);
  // last < first is an invalid range-spec, ignored like any other syntax error.
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
