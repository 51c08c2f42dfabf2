/**
 * The Content-Disposition header of a streamed download (RFC 6266 §4.1), with the UTF-8
 * name in `filename*` (RFC 8187 §3.2) and a plain ASCII `filename` for old agents. The name
 * comes from a manifest someone else wrote: it was validated by shared/names.ts, and here
 * it is cut to its last segment and anything that could break the header is replaced.
 */
import { baseName } from '../../../../shared/names.ts';

// RFC 8187 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/** The last path segment, without controls, quotes or separators; never empty. */
export function safeDownloadName(name: string): string {
  const cleaned = baseName(name.replaceAll('\\', '/'))
    // biome-ignore lint/suspicious/noControlCharactersInRegex: controls are what is removed
    .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069"<>:|?*]/g, '_')
    .trim();
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'download' : cleaned;
}

/** Percent-encodes every byte of the UTF-8 name that is not an RFC 8187 attr-char. */
export function encodeRfc8187(value: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(value)) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `attachment; filename="ascii"; filename*=UTF-8''utf8` for the given file name. */
export function contentDisposition(name: string): string {
  const safe = safeDownloadName(name);
  const ascii = safe.replace(/[^\x20-\x7e]/g, '_').replace(/[\\"%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeRfc8187(safe)}`;
}
