import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import { zipArchiveName, zipEntryNames } from './zip-names.ts';

describe('ZIP naming', () => {
  it('keeps folder structure as / separated entry names', () => {
    expect(zipEntryNames(['photos/2024/a.jpg', 'a.txt'])).toEqual(['photos/2024/a.jpg', 'a.txt']);
  });

  it('refuses names that would escape the extraction folder or that no file system takes', () => {
    for (const bad of ['../x', '/etc/passwd', 'a//b', 'a/./b', 'a\\..\\b', 'a\u0000b', 'x'.repeat(256)]) {
      expect(() => zipEntryNames(['ok.txt', bad]), JSON.stringify(bad)).toThrow(FerryError);
    }
  });

  it('makes repeats unique, up to case and against folders, keeping the first name', () => {
    expect(zipEntryNames(['a.txt', 'A.txt', 'docs', 'docs/a.txt', 'a.txt'])).toEqual([
      'a.txt',
      'A (2).txt',
      'docs (2)',
      'docs/a.txt',
      'a (3).txt',
    ]);
  });

  it('names the archive after a single top folder, else after the share', () => {
    expect(zipArchiveName(['photos/a.jpg', 'photos/sub/b.jpg'], 'abcdefghijklmnop')).toBe('photos.zip');
    expect(zipArchiveName(['photos/a.jpg', 'b.txt'], 'abcdefghijklmnop')).toBe('ferry-abcdefghijklmnop.zip');
    expect(zipArchiveName(['a.txt', 'b.txt'], 'abcdefghijklmnop')).toBe('ferry-abcdefghijklmnop.zip');
    expect(zipArchiveName(['x/a', 'y/b'], 'abcdefghijklmnop')).toBe('ferry-abcdefghijklmnop.zip');
  });
});
