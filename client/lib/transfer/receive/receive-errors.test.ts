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

  it('says a part may be left, never "not saved", where the browser keeps a failed download (WebKit)', () => {
    const kept = 'Your browser may have kept the part it received as a.bin: delete it, it is not the file.';
    const tampered = new FerryError('RECORD_AUTH_FAILED', 'a.bin: record 3 failed');
    expect(fileFailure('dir/a.bin', tampered, 'a.bin')).toBe(
      `dir/a.bin failed verification: record 3 was altered or damaged on the way. ${kept}`,
    );
    for (const error of [
      new FerryError('FILE_HASH_MISMATCH', 'x'),
      new FerryError('NETWORK_ERROR', 'Offline.'),
      new FerryError('DOWNLOAD_INCOMPLETE', 'x'),
      new Error('x'),
    ]) {
      const said = fileFailure('dir/a.bin', error, 'a.bin');
      expect(said.endsWith(kept), said).toBe(true);
      expect(said).not.toMatch(/not saved\.|was saved, delete/);
    }
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
