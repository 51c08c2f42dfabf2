import { describe, expect, it } from 'vitest';
import { shareNames } from './names.ts';

describe('shareNames', () => {
  it('keeps folder paths and strips the leading slash a drop gives', () => {
    expect(shareNames([{ name: 'a.txt', relativePath: '/docs/sub/a.txt' }, { name: 'b.txt' }])).toEqual([
      'docs/sub/a.txt',
      'b.txt',
    ]);
  });

  it('suffixes duplicates before the extension, case-insensitively', () => {
    expect(
      shareNames([{ name: 'a.txt' }, { name: 'A.txt' }, { name: 'a.txt' }, { name: '.env' }, { name: '.env' }]),
    ).toEqual(['a.txt', 'A (2).txt', 'a (3).txt', '.env', '.env (2)']);
  });

  it('repairs names the recipient would refuse', () => {
    expect(shareNames([{ name: 'con.txt' }, { name: 'a<b>.txt' }, { name: 'x', relativePath: '../../etc/x' }])).toEqual(
      ['_con.txt', 'a_b_.txt', 'etc/x'],
    );
  });
});
