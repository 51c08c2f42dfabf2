import { describe, expect, it } from 'vitest';
import { withExifThumbnail } from '../../../../e2e/support/exif-jpeg.ts';
import { findExifThumbnail } from './exif-thumbnail.ts';

/** A stand-in JPEG: SOI, an APP0 of `app0` bytes, SOS and `body` bytes, EOI. */
function jpeg(body: number, app0 = 14): Uint8Array {
  const out = new Uint8Array(2 + 4 + app0 + 4 + body + 2);
  out.set([0xff, 0xd8, 0xff, 0xe0, (app0 + 2) >> 8, (app0 + 2) & 0xff], 0);
  out.set([0xff, 0xda, 0x00, 0x02], 6 + app0);
  out.fill(0x55, 10 + app0, 10 + app0 + body);
  out.set([0xff, 0xd9], out.length - 2);
  return out;
}

describe('findExifThumbnail', () => {
  const thumbnail = jpeg(300);
  const file = withExifThumbnail(jpeg(100_000), thumbnail);

  it('finds the thumbnail IFD1 points at, as the exact bytes stored', () => {
    const found = findExifThumbnail(file);
    expect(found.kind).toBe('found');
    if (found.kind !== 'found') return;
    expect(file.subarray(found.start, found.end)).toEqual(thumbnail);
    expect(found.orientation).toBe(1);
    const turned = findExifThumbnail(withExifThumbnail(jpeg(10), thumbnail, 6));
    expect(turned.kind === 'found' && turned.orientation).toBe(6);
  });

  it('asks for the bytes up to the end of the EXIF segment when given fewer', () => {
    const found = findExifThumbnail(file.subarray(0, 100));
    expect(found).toEqual({ kind: 'more', bytes: 4 + ((file[4] ?? 0) << 8) + (file[5] ?? 0) });
    if (found.kind === 'more') expect(findExifThumbnail(file.subarray(0, found.bytes)).kind).toBe('found');
    expect(findExifThumbnail(file.subarray(0, 3))).toEqual({ kind: 'more', bytes: 4 });
  });

  it('finds an EXIF segment after an APP0 (JFIF) segment', () => {
    const withApp0 = withExifThumbnail(jpeg(10), thumbnail);
    const app0 = [0xff, 0xe0, 0x00, 0x06, 1, 2, 3, 4];
    const moved = new Uint8Array([0xff, 0xd8, ...app0, ...withApp0.subarray(2)]);
    const found = findExifThumbnail(moved);
    expect(found.kind === 'found' && moved.subarray(found.start, found.end)).toEqual(thumbnail);
  });

  it('says none for a JPEG without EXIF, a PNG, and offsets that point outside the segment', () => {
    expect(findExifThumbnail(jpeg(1000))).toEqual({ kind: 'none' });
    expect(findExifThumbnail(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]))).toEqual({ kind: 'none' });
    const crafted = new Uint8Array(file);
    const view = new DataView(crafted.buffer);
    // IFD1's JPEGInterchangeFormatLength (entry 3 of IFD1, value at TIFF 26 + 2 + 24 + 8).
    view.setUint32(12 + 26 + 2 + 24 + 8, 0x7fffffff);
    expect(findExifThumbnail(crafted)).toEqual({ kind: 'none' });
  });
});
