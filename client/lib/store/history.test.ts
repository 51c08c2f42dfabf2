import { describe, expect, it } from 'vitest';
import type { ShareRecord } from './db.ts';
import { extendedSeconds, withoutSecrets } from './history.svelte.ts';

const H = 3600;

describe('extendedSeconds', () => {
  it('adds a day to the time left', () => {
    expect(extendedSeconds(1_000_000 + 2 * H * 1000, 1_000_000)).toBe(26 * H);
  });
  it('never goes past 7 days', () => {
    expect(extendedSeconds(1_000_000 + 6.5 * 24 * H * 1000, 1_000_000)).toBe(7 * 24 * H);
  });
});

describe('withoutSecrets', () => {
  it('keeps nothing that opens or controls the share', () => {
    const record: ShareRecord = {
      id: 'i',
      ownerToken: 'o',
      uploadToken: 'u',
      secret: 's',
      link: 'l',
      createdAt: 0,
      expiresAt: 1,
      maxDownloads: null,
      hasPassword: false,
      state: 'ready',
      files: [
        {
          name: 'a',
          size: 1,
          type: '',
          lastModified: 0,
          nonce: 'n',
          recordSize: 1024,
          key: 'k',
          blake3: null,
          checkpoint: { offset: 1, digest: 'd' },
          uploadUrl: 'x',
          reused: true,
          uploaded: true,
        },
      ],
    };
    const out = withoutSecrets(record);
    expect(out.state).toBe('revoked');
    expect(JSON.stringify(out)).not.toMatch(/"(o|u|s|l|k|x)"/);
  });
});
