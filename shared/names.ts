/**
 * File names arrive from outside twice: from the sender's file picker and, on the recipient,
 * out of a manifest someone else wrote. Both go through `safeRelativePath`, which keeps a
 * folder structure but nothing that could escape it or act as markup or a control sequence.
 */
import { FerryError } from './errors.ts';
import { MAX_NAME_LENGTH, MAX_PATH_LENGTH } from './limits.ts';

// C0/C1 controls, bidi overrides and the characters Windows refuses in names.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069<>:"|?*\\]/;
const RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/** Checks a relative path (segments joined by '/'); returns it normalised or throws INVALID_NAME. */
export function safeRelativePath(path: string): string {
  const normalised = path.normalize('NFC');
  if (normalised.length === 0 || normalised.length > MAX_PATH_LENGTH) {
    throw new FerryError('INVALID_NAME', `A file name must be 1 to ${MAX_PATH_LENGTH} characters.`);
  }
  const segments = normalised.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new FerryError('INVALID_NAME', `"${printable(path)}" is not a relative file path.`);
    }
    if (segment.length > MAX_NAME_LENGTH) {
      throw new FerryError('INVALID_NAME', `A name in "${printable(path)}" is over ${MAX_NAME_LENGTH} characters.`);
    }
    if (FORBIDDEN.test(segment) || RESERVED.test(segment) || /[. ]$/.test(segment)) {
      throw new FerryError('INVALID_NAME', `"${printable(path)}" has characters a file name cannot have.`);
    }
  }
  return normalised;
}

/**
 * Makes a name from a sender's file system acceptable: replaces forbidden characters with
 * '_' and drops empty, '.' and '..' segments. Used on the sending side only; the recipient
 * rejects rather than repairs.
 */
export function repairRelativePath(path: string): string {
  const segments = path
    .normalize('NFC')
    .split(/[/\\]/)
    .filter((s) => s !== '' && s !== '.' && s !== '..')
    .map((s) => {
      let out = s.replace(new RegExp(FORBIDDEN.source, 'g'), '_').slice(0, MAX_NAME_LENGTH);
      out = out.replace(/[. ]+$/, '') || '_';
      return RESERVED.test(out) ? `_${out}` : out;
    });
  return safeRelativePath(segments.length ? segments.join('/') : 'file');
}

/**
 * Makes relative paths unique as a case-insensitive file system sees them (NTFS, and APFS
 * by default): a path that repeats an earlier one up to case, or that names a folder another
 * path needs ("x" beside "x/y"), gets " (2)", " (3)"… before its extension. The first holder
 * of each path keeps it unchanged, a new name never takes one that a later path holds, and a
 * suffixed name stays within MAX_NAME_LENGTH. Expects paths already checked as above.
 */
export function uniquePaths(paths: readonly string[]): string[] {
  const key = (path: string) => path.toLowerCase();
  const folders = new Set<string>();
  for (const path of paths) {
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      folders.add(key(path.slice(0, slash)));
    }
  }
  const held = new Set(paths.map(key));
  const taken = new Set<string>();
  return paths.map((path) => {
    let name = path;
    for (let n = 2; taken.has(key(name)) || folders.has(key(name)) || (name !== path && held.has(key(name))); n++) {
      name = withSuffix(path, n);
    }
    taken.add(key(name));
    return name;
  });
}

/** `dir/name (n).ext`; the name is cut (never inside a surrogate pair) to keep MAX_NAME_LENGTH. */
function withSuffix(path: string, n: number): string {
  const slash = path.lastIndexOf('/');
  const name = path.slice(slash + 1);
  const suffix = ` (${n})`;
  const dot = name.lastIndexOf('.');
  // A leading dot (".env") is a name, not an extension; an extension too long to keep is part of the name.
  const split = dot > 0 && name.length - dot + suffix.length < MAX_NAME_LENGTH ? dot : name.length;
  let stem = name.slice(0, Math.min(split, MAX_NAME_LENGTH - suffix.length - (name.length - split)));
  if (/[\uD800-\uDBFF]$/.test(stem)) stem = stem.slice(0, -1);
  return `${path.slice(0, slash + 1)}${stem}${suffix}${name.slice(split)}`;
}

/** The last segment of a relative path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function printable(text: string): string {
  return text.replace(new RegExp(FORBIDDEN.source, 'g'), '\uFFFD').slice(0, 80);
}
