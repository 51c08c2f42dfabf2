import { describe, expect, it } from 'vitest';
import type { DedupEntry } from '../../store/db.ts';
import { fingerprintOf } from '../../store/dedup.ts';
import { matchReuse } from './dedup-match.ts';

const entry = (over: Partial<DedupEntry> = {}): DedupEntry => ({
  blake3: 'a'.repeat(64),
  fingerprint: '3:1:x',
  blobId: 'b1',
  blobToken: 't'.repeat(43),
  key: 'k',
  nonce: 'n',
  recordSize: 65536,
  size: 3,
  expiresAt: 2000,
  shareId: 's',
  ...over,
});

describe('dedup matching', () => {
  it('fingerprints by size, time and name', () => {
    expect(fingerprintOf({ size: 3, name: 'x', lastModified: 1 })).toBe('3:1:x');
  });

  it('reuses only an exact, live hash match', () => {
    const list = [entry({ blake3: 'b'.repeat(64) }), entry()];
    expect(matchReuse(list, 'a'.repeat(64), 3, 1000)?.blobId).toBe('b1');
    expect(matchReuse(list, 'c'.repeat(64), 3, 1000)).toBeUndefined();
    expect(matchReuse(list, 'a'.repeat(64), 4, 1000)).toBeUndefined();
    expect(matchReuse(list, 'a'.repeat(64), 3, 2000)).toBeUndefined();
  });
});
