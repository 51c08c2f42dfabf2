import { describe, expect, it } from 'vitest';
import { shouldRetryStatus } from './retry.ts';

describe('shouldRetryStatus', () => {
  it('retries the network, 5xx, 409, 423 and 429', () => {
    for (const s of [undefined, 0, 500, 502, 503, 409, 423, 429]) expect(shouldRetryStatus(s)).toBe(true);
  });
  it('gives up on final 4xx answers', () => {
    for (const s of [400, 401, 403, 404, 410, 413]) expect(shouldRetryStatus(s)).toBe(false);
    expect(shouldRetryStatus(409, 'POST')).toBe(false);
  });
});
