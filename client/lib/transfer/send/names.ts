/** Names of the files in one share: repaired from the picker's paths, then made unique. */
import { repairRelativePath, uniquePaths } from '../../../../shared/names.ts';

/** What the picker tells us about a file: its name and, from a folder, its relative path. */
export interface PickedName {
  name: string;
  relativePath?: string | null | undefined;
}

/** The names a share's manifest gets, in order; repeats get " (2)", " (3)" before the extension. */
export function shareNames(picked: readonly PickedName[]): string[] {
  return uniquePaths(picked.map((file) => repairRelativePath(file.relativePath || file.name)));
}
