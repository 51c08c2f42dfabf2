import { describe, expect, it } from 'vitest';
import { contentDisposition, encodeRfc8187, safeDownloadName } from './content-disposition.ts';

describe('contentDisposition', () => {
  it('keeps plain names as they are', () => {
    expect(contentDisposition('report.pdf')).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
  });

  it('encodes UTF-8 per RFC 8187 with an ASCII fallback', () => {
    expect(contentDisposition('Grüße €.txt')).toBe(
      `attachment; filename="Gr__e _.txt"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%E2%82%AC.txt`,
    );
  });

  it('percent-encodes characters RFC 8187 does not allow bare', () => {
    expect(encodeRfc8187(`a'b(c)*d;e,f%`)).toBe('a%27b%28c%29%2Ad%3Be%2Cf%25');
  });

  it('uses only the last path segment and strips header-breaking characters', () => {
    expect(safeDownloadName('photos/2024/a.jpg')).toBe('a.jpg');
    expect(safeDownloadName('evil"\r\nSet-Cookie: x')).toBe('evil___Set-Cookie_ x');
    expect(contentDisposition('a"b\\c.txt')).toContain('filename="c.txt"');
    expect(safeDownloadName('')).toBe('download');
    expect(safeDownloadName('..')).toBe('download');
  });
});
