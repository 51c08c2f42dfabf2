import { describe, expect, it } from 'vitest';
import { prettierBytes } from '../send/uppy-bytes.ts';
import { formatBytes } from './format.ts';

describe('formatBytes', () => {
  it('prints human-readable decimal sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.5 kB');
    expect(formatBytes(12_345_678)).toBe('12.3 MB');
    expect(formatBytes(250_000_000)).toBe('250 MB');
    expect(formatBytes(5e12)).toBe('5.0 TB');
  });

  it('is what Uppy’s Dashboard prints too (the picker and the recipient agree)', () => {
    // 30 MiB and 2.9 MiB: Uppy's own prettier-bytes said "30 MB" and "2.9 MB".
    expect(prettierBytes(30 * 1024 * 1024)).toBe('31.5 MB');
    expect(prettierBytes(Math.round(2.9 * 1024 * 1024))).toBe('3.0 MB');
    expect(prettierBytes(30 * 1024 * 1024)).toBe(formatBytes(30 * 1024 * 1024));
  });
});
