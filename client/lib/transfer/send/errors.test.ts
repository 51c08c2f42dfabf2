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

  it('calls a request without an answer a network error', () => {
    expect(toFerryError({ originalRequest: {}, originalResponse: null }).code).toBe('NETWORK_ERROR');
  });

  it('passes FerryErrors through', () => {
    const e = new FerryError('CONTENT_CHANGED', 'x');
    expect(toFerryError(e)).toBe(e);
  });
});
