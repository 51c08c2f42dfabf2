/**
 * The thumbnail a camera stores inside a JPEG's EXIF block, found without the rest of the file.
 *
 * A JPEG (ITU T.81 Annex B) is a sequence of marker segments after SOI (FF D8): each is
 * FF xx, a 2-byte big-endian length counting itself, and its payload. EXIF (CIPA DC-008,
 * §4.5.4) lives in an APP1 segment (FF E1) whose payload starts `Exif\0\0` and then a TIFF
 * header: byte order (`II` little, `MM` big endian), 42, and the offset of IFD0. IFD0's last
 * 4 bytes give the offset of IFD1, the thumbnail's IFD, whose tags 0x0201
 * (JPEGInterchangeFormat: offset from the TIFF header) and 0x0202 (its length) locate a
 * complete small JPEG. APP1 is at most 64 KiB, and it comes before the image data, so the
 * thumbnail lies in the file's first 64 KiB + a few bytes: one or two records.
 *
 * Invariant: the function reads only `head` and never throws; any byte it cannot make sense
 * of means "no thumbnail". Offsets are checked against the segment, so a crafted file cannot
 * point the slice outside the bytes it was given.
 */

/** What the first bytes of a JPEG say about its EXIF thumbnail. */
export type ExifLookup =
  /**
   * The thumbnail is `head.subarray(start, end)`: a JPEG of its own, stored as the sensor saw
   * it; `orientation` (IFD0's Orientation tag, 1–8, TIFF 6.0) says how the picture is turned.
   */
  | { kind: 'found'; start: number; end: number; orientation: number }
  /** The EXIF segment (or the next segment header) ends past `head`: read the first `bytes` bytes. */
  | { kind: 'more'; bytes: number }
  | { kind: 'none' };

const SOI = 0xd8;
const APP1 = 0xe1;
/** Start of scan: entropy-coded image data follows, no more metadata segments. */
const SOS = 0xda;
const TAG_ORIENTATION = 0x0112;
const TAG_OFFSET = 0x0201;
const TAG_LENGTH = 0x0202;
const EXIF_ID = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"
/** Metadata segments examined before giving up (APP0, APP1, ICC profiles…). */
const MAX_SEGMENTS = 16;

/** Looks for the EXIF thumbnail in the first bytes of a JPEG. */
export function findExifThumbnail(head: Uint8Array): ExifLookup {
  if (head.length < 4) return head.length >= 2 && !isSoi(head) ? { kind: 'none' } : { kind: 'more', bytes: 4 };
  if (!isSoi(head)) return { kind: 'none' };
  let at = 2;
  for (let segment = 0; segment < MAX_SEGMENTS; segment++) {
    if (at + 4 > head.length) return { kind: 'more', bytes: at + 4 };
    if (head[at] !== 0xff) return { kind: 'none' };
    const marker = head[at + 1] ?? 0;
    if (marker === SOS || marker === SOI) return { kind: 'none' };
    const length = ((head[at + 2] ?? 0) << 8) | (head[at + 3] ?? 0);
    if (length < 2) return { kind: 'none' };
    const end = at + 2 + length;
    if (marker === APP1 && startsWith(head, at + 4, EXIF_ID)) {
      if (end > head.length) return { kind: 'more', bytes: end };
      return thumbnailIn(head, at + 4 + EXIF_ID.length, end);
    }
    at = end;
  }
  return { kind: 'none' };
}

/** The thumbnail in the TIFF structure at head[tiff, end). */
function thumbnailIn(head: Uint8Array, tiff: number, end: number): ExifLookup {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return { kind: 'none' };
  const little = order === 0x4949;
  const u16 = (offset: number) => view.getUint16(tiff + offset, little);
  const u32 = (offset: number) => view.getUint32(tiff + offset, little);
  const size = end - tiff;
  const fits = (offset: number, bytes: number) => offset >= 0 && offset + bytes <= size;
  if (!fits(0, 8) || u16(2) !== 42) return { kind: 'none' };
  const ifd0 = u32(4);
  if (!fits(ifd0, 2)) return { kind: 'none' };
  let orientation = 1;
  for (let i = 0; i < u16(ifd0); i++) {
    const entry = ifd0 + 2 + i * 12;
    if (!fits(entry, 12)) return { kind: 'none' };
    const value = u16(entry + 8);
    if (u16(entry) === TAG_ORIENTATION && value >= 1 && value <= 8) orientation = value;
  }
  const next = ifd0 + 2 + u16(ifd0) * 12;
  if (!fits(next, 4)) return { kind: 'none' };
  const ifd1 = u32(next);
  if (ifd1 === 0 || !fits(ifd1, 2)) return { kind: 'none' };
  let offset = 0;
  let length = 0;
  const entries = u16(ifd1);
  for (let i = 0; i < entries; i++) {
    const entry = ifd1 + 2 + i * 12;
    if (!fits(entry, 12)) return { kind: 'none' };
    const tag = u16(entry);
    if (tag === TAG_OFFSET) offset = u32(entry + 8);
    if (tag === TAG_LENGTH) length = u32(entry + 8);
  }
  if (offset === 0 || length < 4 || !fits(offset, length)) return { kind: 'none' };
  const start = tiff + offset;
  // The thumbnail must itself be a JPEG: anything else is not shown.
  if (head[start] !== 0xff || head[start + 1] !== SOI) return { kind: 'none' };
  return { kind: 'found', start, end: start + length, orientation };
}

function isSoi(head: Uint8Array): boolean {
  return head[0] === 0xff && head[1] === SOI;
}

function startsWith(head: Uint8Array, at: number, bytes: readonly number[]): boolean {
  return bytes.every((b, i) => head[at + i] === b);
}
