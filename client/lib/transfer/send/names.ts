/** Names of the files in one share: repaired from the picker's paths, then made unique. */
import { repairRelativePath } from '../../../../shared/names.ts';

/** What the picker tells us about a file: its name and, from a folder, its relative path. */
export interface PickedName {
  name: string;
  relativePath?: string | null | undefined;
}

/** The names a share's manifest gets, in order; repeats get " (2)", " (3)" before the extension. */
export function shareNames(picked: readonly PickedName[]): string[] {
  const taken = new Set<string>();
  return picked.map((file) => {
    const base = repairRelativePath(file.relativePath || file.name);
    let name = base;
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = withSuffix(base, n);
    taken.add(name.toLowerCase());
    return name;
  });
}

function withSuffix(path: string, n: number): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  // "archive.tar.gz" → "archive (2).tar.gz" would be nicer, but one extension is the common case.
  const split = dot > slash + 1 ? dot : path.length;
  return `${path.slice(0, split)} (${n})${path.slice(split)}`;
}
