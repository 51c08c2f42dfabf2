/**
 * The files a download ticket names, as text: ascending runs, `0-999` or `0-3,7,9-12`.
 * A recipient's ticket names every file of its share (client/lib/transfer/receive/
 * visit-ticket.ts), up to MAX_FILES of them; stored as runs that is a few bytes, where a
 * row per file cost ~150 bytes each and let a ticket flood grow the database by 160 KiB
 * per ticket (issue 9). A plain comma list (`0,1,2`) is valid too: older records became one.
 */

/** Encodes indices (any order, duplicates allowed) as ascending runs. */
export function encodeFileSet(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const first = sorted[i]!;
    let last = first;
    while (sorted[i + 1] === last + 1) last = sorted[++i]!;
    runs.push(first === last ? String(first) : `${first}-${last}`);
    i++;
  }
  return runs.join(',');
}

/** The indices of an encoded set, ascending; throws on anything malformed. */
export function decodeFileSet(text: string): number[] {
  if (text === '') return [];
  const out = new Set<number>();
  for (const run of text.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(run);
    if (!match) throw new TypeError(`bad file set run "${run}"`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (!Number.isSafeInteger(last) || last < first) throw new TypeError(`bad file set run "${run}"`);
    for (let i = first; i <= last; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/** Whether an encoded set holds `index`, without expanding it. */
export function fileSetHas(text: string, index: number): boolean {
  if (text === '') return false;
  return text.split(',').some((run) => {
    const [first, last = first] = run.split('-').map(Number);
    return first !== undefined && last !== undefined && first <= index && index <= last;
  });
}
