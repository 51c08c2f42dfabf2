import { describe, expect, it } from 'vitest';
import { zipArchiveName, zipEntryName } from './zip-names.ts';

describe('ZIP naming', () => {
  it('keeps folder structure as / separated entry names', () => {
    expect(zipEntryName('photos/2024/a.jpg')).toBe('photos/2024/a.jpg');
    expect(zipEntryName('a.txt')).toBe('a.txt');
  });

  it('refuses names that would escape the extraction folder', () => {
    for (const bad of ['../x', '/etc/passwd', 'a//b', 'a/./b', 'a\\..\\b']) {
      expect(() => zipEntryName(bad)).toThrow(RangeError);
    }
  });

  it('names the archive after a single top folder, else after the share', () => {
    expect(zipArchiveName(['photos/a.jpg', 'photos/sub/b.jpg'], 'abcdefghijklmnop')).toBe('photos.zip');
    expect(zipArchiveName(['photos/a.jpg', 'b.txt'], 'abcdefghijklmnop')).toBe('ferry-abcdefghijklmnop.zip');
    expect(zipArchiveName(['a.txt', 'b.txt'], 'abcdefghijklmnop')).toBe('ferry-abcdefghijklmnop.zip');
    expect(zipArchiveName(['x/a', 'y/b'], 'abcdefghijklmnop')).toBe('ferry-abcdefghijklmnop.zip');
  });
});
