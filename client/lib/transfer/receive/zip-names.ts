/**
 * Names inside a "Download all" ZIP. Entries keep the manifest's relative paths, which use
 * '/' between folders as the ZIP format requires (APPNOTE 6.3.10 §4.4.17.1), so unpacking
 * rebuilds the sender's folders. The manifest was written by someone else: its paths were
 * checked by shared/names.ts when it was opened (no `..`, no absolute paths, no backslashes
 * or controls, no over-long names) and are checked again here, and repeats are renamed,
 * because an archive with two "a.txt" (or "A.txt" beside "a.txt", or a file "x" beside a
 * folder "x/") makes unzip ask to overwrite, or silently keeps one of them.
 */
import { baseName, safeRelativePath, uniquePaths } from '../../../../shared/names.ts';
import { safeDownloadName } from './content-disposition.ts';

/**
 * The entry names of the manifest's files, in order: checked (INVALID_NAME otherwise) and
 * unique up to case, folders included; a repeat gets " (2)" before its extension.
 */
export function zipEntryNames(paths: readonly string[]): string[] {
  return uniquePaths(paths.map(safeRelativePath));
}

/**
 * The archive's own name: the sender's folder when every file sits in one top folder
 * (`photos/a.jpg`, `photos/b.jpg` → `photos.zip`), else `ferry-<share id>.zip`.
 */
export function zipArchiveName(paths: readonly string[], shareId: string): string {
  const tops = new Set(paths.map((p) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : null)));
  const [only] = tops;
  if (tops.size === 1 && typeof only === 'string') return `${safeDownloadName(baseName(only))}.zip`;
  return `ferry-${shareId}.zip`;
}
