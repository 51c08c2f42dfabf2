import { describe, expect, it } from 'vitest';
import { parseSwControl } from './messages.ts';
import {
  checkShareForm,
  isStashId,
  MAX_SHARED_BYTES,
  MAX_SHARED_FILES,
  MAX_SHARED_TEXT,
  parseRejection,
  parseStashMeta,
  sharedFileName,
  sharedText,
} from './share-target.ts';

function form(files: File[], fields: Record<string, string> = {}): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.set(name, value);
  for (const file of files) data.append('files', file);
  return data;
}

describe('checkShareForm', () => {
  it('keeps files and joins title, text and url without repeats', () => {
    const checked = checkShareForm(
      form([new File(['a'], 'a.txt')], { title: 'Trip', text: 'Trip', url: 'https://example.org/x' }),
    );
    expect(checked).toMatchObject({ ok: true, text: 'Trip\nhttps://example.org/x' });
    expect(checked.ok && checked.files.map((f) => f.name)).toEqual(['a.txt']);
  });

  it('drops the nameless empty file an empty input submits', () => {
    expect(checkShareForm(form([new File([], '')], { text: 'hello' }))).toMatchObject({ ok: true, files: [] });
  });

  it('refuses too many files, too many bytes and nothing at all', () => {
    const many = Array.from({ length: MAX_SHARED_FILES + 1 }, (_, i) => new File(['x'], `${i}.txt`));
    expect(checkShareForm(form(many))).toEqual({ ok: false, reason: 'too-many-files' });
    const huge = new File(['x'], 'huge.bin');
    Object.defineProperty(huge, 'size', { value: MAX_SHARED_BYTES + 1 });
    expect(checkShareForm(form([huge]))).toEqual({ ok: false, reason: 'too-large' });
    expect(checkShareForm(form([], { text: '   ' }))).toEqual({ ok: false, reason: 'empty' });
  });

  it('cuts text to its limit', () => {
    expect(sharedText(['x'.repeat(MAX_SHARED_TEXT + 10)])).toHaveLength(MAX_SHARED_TEXT);
  });
});

describe('sharedFileName', () => {
  it('keeps the last segment and repairs it', () => {
    expect(sharedFileName('../../etc/passwd')).toBe('passwd');
    expect(sharedFileName('C:\\Users\\me\\photo.jpg')).toBe('photo.jpg');
    expect(sharedFileName('a<b>.txt')).toBe('a_b_.txt');
    expect(sharedFileName('con.txt')).toBe('_con.txt');
    expect(sharedFileName('..')).toBe('file');
    expect(sharedFileName('')).toBe('file');
  });
});

describe('parseStashMeta', () => {
  const file = { name: 'a.txt', type: 'text/plain', size: 1, lastModified: 1_700_000_000_000 };

  it('accepts what stashShare writes and repairs names again', () => {
    expect(parseStashMeta({ v: 1, text: 'hi', files: [file, { ...file, name: '../x', type: 'not a type' }] })).toEqual({
      v: 1,
      text: 'hi',
      files: [file, { ...file, name: 'x', type: '' }],
    });
  });

  it('refuses malformed or oversized metadata', () => {
    expect(parseStashMeta(null)).toBeUndefined();
    expect(parseStashMeta({ v: 2, text: '', files: [] })).toBeUndefined();
    expect(parseStashMeta({ v: 1, text: '', files: [{ ...file, size: -1 }] })).toBeUndefined();
    expect(parseStashMeta({ v: 1, text: '', files: [{ ...file, size: MAX_SHARED_BYTES + 1 }] })).toBeUndefined();
    expect(parseStashMeta({ v: 1, text: '', files: Array(MAX_SHARED_FILES + 1).fill(file) })).toBeUndefined();
    expect(parseStashMeta({ v: 1, text: 'x'.repeat(MAX_SHARED_TEXT + 1), files: [] })).toBeUndefined();
  });
});

describe('query values', () => {
  it('accepts stash ids and known rejections only', () => {
    expect(isStashId(`1700000000000-${'ab'.repeat(16)}`)).toBe(true);
    expect(isStashId('../meta')).toBe(false);
    expect(isStashId(null)).toBe(false);
    expect(parseRejection('too-large')).toBe('too-large');
    expect(parseRejection('<script>')).toBeUndefined();
  });
});

describe('parseSwControl', () => {
  it('accepts exactly SKIP_WAITING', () => {
    expect(parseSwControl({ type: 'SKIP_WAITING' })).toEqual({ type: 'SKIP_WAITING' });
    expect(parseSwControl({ type: 'SKIP_WAITING', extra: 1 })).toBeUndefined();
    expect(parseSwControl('SKIP_WAITING')).toBeUndefined();
    expect(parseSwControl({ type: 'download' })).toBeUndefined();
  });
});
