import { describe, expect, it } from 'vitest';
import { FerryError } from '../shared/errors.ts';
import { EXIT, exitOf } from './exit-codes.ts';
import { parseCommand, parseDownloads, parseDuration, parseUploadKey, positionalIds } from './options.ts';

describe('ferry options', () => {
  it('reads durations from 5 minutes to 7 days', () => {
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('7d')).toBe(604_800);
    for (const bad of ['4m', '8d', '1 week', '', '1.5h', '-1h']) {
      expect(() => parseDuration(bad), bad).toThrow(FerryError);
    }
  });

  it('reads a download limit of 1 to 100, none when absent', () => {
    expect(parseDownloads(undefined)).toBeNull();
    expect(parseDownloads('1')).toBe(1);
    expect(parseDownloads('100')).toBe(100);
    for (const bad of ['0', '101', '2.5', 'x']) expect(() => parseDownloads(bad), bad).toThrow(FerryError);
  });

  it('takes the upload key from --upload-key, else FERRY_UPLOAD_KEY, and refuses one that is not a key', () => {
    const key = `fk_${'A'.repeat(42)}x`;
    const other = `fk_${'b'.repeat(43)}`;
    expect(parseUploadKey(undefined, undefined)).toBeNull();
    expect(parseUploadKey(undefined, '  ')).toBeNull();
    expect(parseUploadKey('', '')).toBeNull();
    expect(parseUploadKey(undefined, `${key}\n`)).toBe(key);
    expect(parseUploadKey(key, undefined)).toBe(key);
    expect(parseUploadKey(other, key)).toBe(other);
    expect(parseUploadKey('', key)).toBe(key);
    for (const [flag, env, named] of [
      ['fk_short', key, '--upload-key'],
      [undefined, `fk_${'A'.repeat(44)}`, 'FERRY_UPLOAD_KEY'],
      [undefined, `xk_${'A'.repeat(43)}`, 'FERRY_UPLOAD_KEY'],
      [`fk_${'A'.repeat(42)}=`, undefined, '--upload-key'],
    ] as const) {
      let thrown: unknown;
      try {
        parseUploadKey(flag, env);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, String(flag ?? env)).toBeInstanceOf(FerryError);
      expect((thrown as FerryError).code).toBe('UPLOAD_KEY_INVALID');
      expect((thrown as FerryError).message).toContain(named);
      expect(exitOf(thrown).status).toBe(EXIT.REFUSED);
    }
  });
});

describe('ferry exit statuses', () => {
  it('groups codes and prints the code first', () => {
    const tampered = exitOf(new FerryError('RECORD_AUTH_FAILED', 'a.bin: record 3 failed verification.'));
    expect(tampered).toEqual({
      status: EXIT.VERIFICATION,
      line: 'ferry: RECORD_AUTH_FAILED: a.bin: record 3 failed verification.',
    });
    expect(exitOf(new FerryError('SHARE_EXPIRED', 'gone')).status).toBe(EXIT.GONE);
    expect(exitOf(new FerryError('WRONG_PASSWORD', 'no')).status).toBe(EXIT.KEY);
    expect(exitOf(new FerryError('UPLOAD_KEY_REQUIRED', 'no key')).status).toBe(EXIT.REFUSED);
    expect(exitOf(new FerryError('UPLOAD_KEY_INVALID', 'bad key')).status).toBe(EXIT.REFUSED);
    expect(exitOf(new Error('boom'))).toEqual({ status: EXIT.FAILED, line: 'ferry: INTERNAL: boom' });
  });

  it('reads an id that begins with a dash as the positional it is, or as the value of the long option before it', () => {
    const id = '-iK3aZ_0-9xYqw7B';
    // What CI met: `ferry inbox <id> -o out --json` with such an id was "Unknown option '-i'".
    const inbox = parseCommand(['inbox', id, '-o', 'out', '--json'].slice(1), {
      output: { type: 'string', short: 'o', default: '.' },
      json: { type: 'boolean', default: false },
    });
    expect(inbox.positionals).toEqual([id]);
    expect(inbox.values).toEqual({ output: 'out', json: true });
    expect(parseCommand(['--to', id, 'a.txt'], { to: { type: 'string' } })).toMatchObject({
      values: { to: id },
      positionals: ['a.txt'],
    });
    expect(positionalIds([id, '--', 'x'], {})).toEqual(['--', 'x', id]);
    expect(positionalIds(['--json', id], { json: { type: 'boolean' } })).toEqual(['--json', '--', id]);
    // Anything else that begins with a dash is still an option, and an unknown one is refused.
    expect(positionalIds(['-o', '-', '--json'], {})).toEqual(['-o', '-', '--json']);
    expect(() => parseCommand(['-x'], {})).toThrow(/Unknown option '-x'/);
    expect(() => parseCommand(['-iK3aZ_0-9xYqw7'], {})).toThrow(/Unknown option/);
  });
});
