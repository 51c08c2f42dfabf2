/**
 * Names inside a "Download all" ZIP. Entries keep the manifest's relative paths, which use
 * '/' between folders as the ZIP format requires (APPNOTE 6.3.10 §4.4.17.1), so unpacking
 * rebuilds the sender's folders. The paths were already checked by shared/names.ts: no
 * `..`, no absolute paths, nothing that escapes the folder the archive is unpacked into.
 */
import { baseName } from '../../../../shared/names.ts';
import { safeDownloadName } from './content-disposition.ts';

/** The entry name of a manifest file: its relative path, checked again defensively. */
export function zipEntryName(path: string): string {
  const segments = path.split('/');
  if (path.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\'))) {
    throw new RangeError(`"${path}" cannot be a ZIP entry name`);
  }
  return path;
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
