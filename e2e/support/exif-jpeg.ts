/**
 * A JPEG with an EXIF thumbnail, assembled from two JPEGs (the picture and its thumbnail):
 * SOI, then an APP1 `Exif\0\0` segment holding a big-endian TIFF structure whose IFD1
 * points at the thumbnail (CIPA DC-008 §4.5.4), then the picture's own segments. What a
 * camera writes, without a camera: the tests make both JPEGs with a canvas.
 */

/**
 * `picture` (a JPEG) with `thumbnail` (a JPEG) stored as its EXIF thumbnail, and IFD0's
 * Orientation (1: as stored; 6: turn 90° clockwise to view, what a phone held upright writes).
 */
export function withExifThumbnail(picture: Uint8Array, thumbnail: Uint8Array, orientation = 1): Uint8Array {
  if (picture[0] !== 0xff || picture[1] !== 0xd8) throw new Error('picture is not a JPEG');
  const ifd0 = 8;
  const ifd1 = ifd0 + 2 + 12 + 4;
  const thumbAt = ifd1 + 2 + 3 * 12 + 4;
  const tiff = new Uint8Array(thumbAt + thumbnail.length);
  const view = new DataView(tiff.buffer);
  tiff.set([0x4d, 0x4d], 0); // "MM": big endian
  view.setUint16(2, 42);
  view.setUint32(4, ifd0);
  // IFD0: Orientation (SHORT), then the offset of IFD1.
  view.setUint16(ifd0, 1);
  entry(view, ifd0 + 2, 0x0112, 3, orientation);
  view.setUint32(ifd0 + 14, ifd1);
  // IFD1: Compression = 6 (JPEG), JPEGInterchangeFormat, JPEGInterchangeFormatLength; no next IFD.
  view.setUint16(ifd1, 3);
  entry(view, ifd1 + 2, 0x0103, 3, 6);
  entry(view, ifd1 + 14, 0x0201, 4, thumbAt);
  entry(view, ifd1 + 26, 0x0202, 4, thumbnail.length);
  view.setUint32(ifd1 + 38, 0);
  tiff.set(thumbnail, thumbAt);
  const exif = [0x45, 0x78, 0x69, 0x66, 0, 0];
  const length = 2 + exif.length + tiff.length;
  if (length > 0xffff) throw new Error('the thumbnail does not fit in one APP1 segment');
  const out = new Uint8Array(2 + 2 + length + picture.length - 2);
  out.set([0xff, 0xd8, 0xff, 0xe1, length >> 8, length & 0xff], 0);
  out.set(exif, 6);
  out.set(tiff, 12);
  out.set(picture.subarray(2), 12 + tiff.length);
  return out;
}

/** One 12-byte IFD entry with one value (SHORT values sit left-aligned in the value field). */
function entry(view: DataView, at: number, tag: number, type: 3 | 4, value: number): void {
  view.setUint16(at, tag);
  view.setUint16(at + 2, type);
  view.setUint32(at + 4, 1);
  if (type === 3) view.setUint16(at + 8, value);
  else view.setUint32(at + 8, value);
}
