import { describe, expect, it } from 'vitest';
import { FerryError } from './errors.ts';
import { MAX_NAME_LENGTH, MAX_PATH_LENGTH } from './limits.ts';
import { repairRelativePath, safeRelativePath, uniquePaths } from './names.ts';

function refusal(path: string): string | undefined {
  try {
    safeRelativePath(path);
    return undefined;
  } catch (error) {
    return error instanceof FerryError ? error.code : String(error);
  }
}

describe('safeRelativePath (every name out of a manifest)', () => {
  it('keeps folders and normalises to NFC', () => {
    expect(safeRelativePath('photos/2024/a.jpg')).toBe('photos/2024/a.jpg');
    expect(safeRelativePath('cafe\u0301.txt')).toBe('caf\u00e9.txt');
  });

  it('refuses anything that could leave the folder it is saved in', () => {
    for (const path of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/./b', './a', 'a/', '.', '..', '']) {
      expect(refusal(path), path).toBe('INVALID_NAME');
    }
  });

  it('refuses backslashes, NUL and other controls, bidi overrides and Windows-reserved names', () => {
    for (const path of [
      'a\\..\\b',
      'C:\\x',
      'a\u0000.txt',
      'a\nb',
      'a\u009b',
      'txt.\u202egpj',
      'CON',
      'nul.txt',
      'a.',
    ]) {
      expect(refusal(path), JSON.stringify(path)).toBe('INVALID_NAME');
    }
  });

  it('refuses names and paths past the limits', () => {
    expect(refusal('a'.repeat(MAX_NAME_LENGTH))).toBeUndefined();
    expect(refusal('a'.repeat(MAX_NAME_LENGTH + 1))).toBe('INVALID_NAME');
    const deep = Array.from({ length: 5 }, () => 'd'.repeat(MAX_NAME_LENGTH)).join('/');
    expect(deep.length).toBeGreaterThan(MAX_PATH_LENGTH);
    expect(refusal(deep)).toBe('INVALID_NAME');
  });

  it('repairs a sender’s name into one it accepts', () => {
    expect(repairRelativePath('../..\\etc/pass\u0000wd.')).toBe('etc/pass_wd');
  });
});

describe('uniquePaths', () => {
  it('leaves distinct paths alone', () => {
    expect(uniquePaths(['a.txt', 'b/a.txt', 'b/c.txt'])).toEqual(['a.txt', 'b/a.txt', 'b/c.txt']);
  });

  it('suffixes repeats before the extension, case-insensitively, the first keeping its name', () => {
    expect(uniquePaths(['a.txt', 'A.txt', 'a.txt', 'd/.env', 'd/.env', 'x.tar.gz', 'x.tar.gz'])).toEqual([
      'a.txt',
      'A (2).txt',
      'a (3).txt',
      'd/.env',
      'd/.env (2)',
      'x.tar.gz',
      'x.tar (2).gz',
    ]);
  });

  it('never gives a repeat a name that a later path holds', () => {
    expect(uniquePaths(['a.txt', 'a.txt', 'a (2).txt'])).toEqual(['a.txt', 'a (3).txt', 'a (2).txt']);
  });

  it('renames a file that has the name of a folder another path needs', () => {
    expect(uniquePaths(['x', 'x/y', 'X/y/z', 'q/r'])).toEqual(['x (2)', 'x/y (2)', 'X/y/z', 'q/r']);
  });

  it('keeps a suffixed name within the length limit without splitting a character', () => {
    const long = `${'a'.repeat(MAX_NAME_LENGTH - 5)}.txt`;
    const [, renamed] = uniquePaths([`d/${long}`, `d/${long}`]);
    expect(renamed).toBe(`d/${'a'.repeat(MAX_NAME_LENGTH - 8)} (2).txt`);
    expect(renamed?.slice(2)).toHaveLength(MAX_NAME_LENGTH);

    const emoji = '😀'.repeat(Math.floor(MAX_NAME_LENGTH / 2));
    const [, cut] = uniquePaths([emoji, emoji]);
    expect(cut?.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(cut).toMatch(/^(😀)+ \(2\)$/u);
    expect(safeRelativePath(cut ?? '')).toBe(cut);

    const longExtension = `a.${'e'.repeat(MAX_NAME_LENGTH - 2)}`;
    const [, whole] = uniquePaths([longExtension, longExtension]);
    expect(whole).toBe(`${longExtension.slice(0, MAX_NAME_LENGTH - 4)} (2)`);
  });
});
