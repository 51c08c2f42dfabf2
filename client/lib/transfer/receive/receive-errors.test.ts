import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import { errorPage, fileFailure, manifestReadError, WRONG_KEY_MESSAGE } from './receive-errors.ts';

describe('receive errors', () => {
  it('maps share codes to the contract headings', () => {
    expect(errorPage(new FerryError('SHARE_NOT_FOUND', 'x')).title).toBe('Link not found');
    expect(errorPage(new FerryError('SHARE_EXPIRED', 'x')).title).toBe('This link has expired');
    expect(errorPage(new FerryError('SHARE_REVOKED', 'x')).title).toBe('This link was revoked');
    expect(errorPage(new FerryError('DOWNLOAD_LIMIT_REACHED', 'x')).title).toBe('Download limit reached');
  });

  it('names the file and the record when verification fails', () => {
    const e = new FerryError('RECORD_AUTH_FAILED', 'dir/a.bin: record 17 failed verification.');
    expect(fileFailure('dir/a.bin', e)).toMatch(/^dir\/a\.bin failed verification: record 17 /);
    expect(fileFailure('b.txt', new FerryError('FILE_HASH_MISMATCH', 'x'))).toMatch(/^b\.txt failed verification/);
    expect(fileFailure('c.txt', new FerryError('NETWORK_ERROR', 'Offline.'))).toBe(
      'c.txt could not be downloaded: Offline.',
    );
  });

  it('reads a 401 on the manifest as a wrong link key, not as a missing token', () => {
    const refused = new FerryError('UNAUTHORIZED', 'This needs the share’s reader token (Authorization: Bearer).');
    const page = errorPage(manifestReadError(refused));
    expect(page.message).toBe(WRONG_KEY_MESSAGE);
    expect(page.message).not.toMatch(/Bearer|token/);
    expect(page.title).toBe(errorPage(new FerryError('WRONG_KEY', 'x')).title);
    const gone = new FerryError('SHARE_EXPIRED', 'x');
    expect(manifestReadError(gone)).toBe(gone);
  });
});
