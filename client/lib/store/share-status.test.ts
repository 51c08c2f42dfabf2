import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../shared/errors.ts';
import { downloadsText, expiresIn, linkStatus, stateOfRefusal } from './share-status.ts';

const NOW = 1_000_000_000;
const H = 3600_000;
const record = { state: 'ready' as const, maxDownloads: 2, expiresAt: NOW + 24 * H - 5000, hasPassword: false };

describe('linkStatus', () => {
  it('counts downloads against the limit and says when the link expires', () => {
    const status = linkStatus(record, { downloads: 1, maxDownloads: 2, expiresAt: record.expiresAt }, null, NOW);
    expect(status).toMatchObject({ state: 'live', text: '1 of 2 downloads · expires in 23 h', canShare: true });
  });

  it('says "used up" once the limit is reached, and offers only Revoke', () => {
    const status = linkStatus(record, { downloads: 2, maxDownloads: 2, expiresAt: record.expiresAt }, null, NOW);
    expect(status).toEqual({
      state: 'used-up',
      text: 'Used up: 2 of 2 downloads. This link no longer works.',
      canShare: false,
      canExtend: false,
      canRevoke: true,
    });
  });

  it('offers nothing on an expired or revoked link', () => {
    const expired = linkStatus({ ...record, expiresAt: NOW - 1 }, null, null, NOW);
    expect(expired).toMatchObject({ state: 'expired', canShare: false, canExtend: false, canRevoke: false });
    const refused = linkStatus(record, null, 'expired', NOW);
    expect(refused.state).toBe('expired');
    const revoked = linkStatus(record, null, stateOfRefusal(new FerryError('SHARE_REVOKED', 'x')), NOW);
    expect(revoked).toMatchObject({ state: 'revoked', text: 'Revoked: this link no longer works.', canRevoke: false });
    expect(linkStatus({ ...record, state: 'revoked' }, null, null, NOW).state).toBe('revoked');
    expect(stateOfRefusal(new FerryError('SHARE_NOT_FOUND', 'x'))).toBeNull();
    expect(stateOfRefusal(new FerryError('NETWORK_ERROR', 'x'))).toBeNull();
  });

  it('before the server answered, states the limit with the right plural', () => {
    const one = linkStatus({ ...record, maxDownloads: 1, hasPassword: true }, null, null, NOW);
    expect(one.text).toBe('Up to 1 download · expires in 23 h · password protected');
    expect(linkStatus({ ...record, maxDownloads: null }, null, null, NOW).text).toBe('Expires in 23 h');
  });

  it('is "uploading" while the sender uploads, with the link already usable', () => {
    const status = linkStatus({ ...record, state: 'uploading' }, null, null, NOW);
    expect(status).toMatchObject({ state: 'uploading', canShare: true });
  });

  it('follows an extension the server reports', () => {
    const status = linkStatus(record, { downloads: 0, maxDownloads: 2, expiresAt: NOW + 72 * H }, null, NOW);
    expect(status.text).toBe('0 of 2 downloads · expires in 3 days');
  });
});

describe('downloadsText and expiresIn', () => {
  it('uses singular and plural forms', () => {
    expect(downloadsText(null, 0)).toBe('no downloads yet');
    expect(downloadsText(null, 1)).toBe('1 download');
    expect(downloadsText(null, 3)).toBe('3 downloads');
    expect(downloadsText(1, 0)).toBe('0 of 1 download');
    expect(downloadsText(1, null)).toBe('up to 1 download');
    expect(downloadsText(5, null)).toBe('up to 5 downloads');
    expect(downloadsText(null, null)).toBe('');
  });
  it('rounds the time left down', () => {
    expect(expiresIn(NOW + 30_000, NOW)).toBe('in less than a minute');
    expect(expiresIn(NOW + 5 * 60_000, NOW)).toBe('in 5 min');
    expect(expiresIn(NOW + 47 * H + 59 * 60_000, NOW)).toBe('in 47 h');
    expect(expiresIn(NOW + 24 * 24 * H, NOW)).toBe('in 24 days');
    expect(expiresIn(NOW + 48 * H, NOW)).toBe('in 2 days');
  });
});
