import { describe, expect, it } from 'vitest';
import { thumbnailPlan, WHOLE_IMAGE_RECORDS } from './thumbnail.ts';

const RECORD = 64 * 1024;

describe('thumbnailPlan', () => {
  it('reads a small image whole, a large JPEG for its EXIF thumbnail, and nothing else', () => {
    expect(thumbnailPlan('a.png', 'image/png', 106_840, RECORD)).toBe('whole');
    expect(thumbnailPlan('a.png', '', WHOLE_IMAGE_RECORDS * RECORD, RECORD)).toBe('whole');
    expect(thumbnailPlan('a.png', 'image/png', WHOLE_IMAGE_RECORDS * RECORD + 1, RECORD)).toBeNull();
    expect(thumbnailPlan('photo.JPG', 'application/octet-stream', 5_000_000, RECORD)).toBe('exif');
    expect(thumbnailPlan('photo', 'image/jpeg', 5_000_000, RECORD)).toBe('exif');
    expect(thumbnailPlan('empty.jpg', 'image/jpeg', 0, RECORD)).toBeNull();
    expect(thumbnailPlan('movie.mp4', 'video/mp4', 1000, RECORD)).toBeNull();
    expect(thumbnailPlan('notes.txt', 'text/plain', 1000, RECORD)).toBeNull();
    // SVG is never served as an image (it can carry script): no thumbnail either.
    expect(thumbnailPlan('logo.svg', 'image/svg+xml', 1000, RECORD)).toBeNull();
  });
});
