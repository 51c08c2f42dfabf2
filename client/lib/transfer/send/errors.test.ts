import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import { toFerryError } from './errors.ts';

const tusError = (status: number, body: string) => ({
  originalRequest: {},
  originalResponse: { getStatus: () => status, getBody: () => body },
});

describe('toFerryError', () => {
  it('keeps the server code and message', () => {
    const e = toFerryError(tusError(410, JSON.stringify({ error: { code: 'SHARE_REVOKED', message: 'Revoked.' } })));
    expect([e.code, e.message]).toEqual(['SHARE_REVOKED', 'Revoked.']);
  });

  it('names a too-large answer without a body', () => {
    expect(toFerryError(tusError(413, '')).code).toBe('TOO_LARGE');
  });

  it('says the server is out of space on 507, with or without a body', () => {
    const body = JSON.stringify({ error: { code: 'STORAGE_FULL', message: 'It keeps 268435456 bytes free.' } });
    for (const e of [toFerryError(tusError(507, body)), toFerryError(tusError(507, ''))]) {
      expect([e.code, e.message]).toEqual(['STORAGE_FULL', 'The server is out of space; try again later.']);
    }
  });

  it('calls a request without an answer a network error', () => {
    expect(toFerryError({ originalRequest: {}, originalResponse: null }).code).toBe('NETWORK_ERROR');
  });

  it('passes FerryErrors through', () => {
    const e = new FerryError('CONTENT_CHANGED', 'x');
    expect(toFerryError(e)).toBe(e);
  });
});
