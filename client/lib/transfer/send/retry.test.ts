import { describe, expect, it } from 'vitest';
import { RETRY_DELAYS, STORAGE_FULL_RETRIES, shouldNudgeOnOnline, shouldRetryStatus } from './retry.ts';

describe('shouldRetryStatus', () => {
  it('retries the network, 5xx, 409, 423 and 429', () => {
    for (const s of [undefined, 0, 500, 502, 503, 409, 423, 429]) expect(shouldRetryStatus(s)).toBe(true);
  });
  it('gives up on final 4xx answers', () => {
    for (const s of [400, 401, 403, 404, 410, 413]) expect(shouldRetryStatus(s)).toBe(false);
    expect(shouldRetryStatus(409, 'POST')).toBe(false);
  });
});

describe('a 507 (the server is out of space)', () => {
  it('is retried a few times, then given up', () => {
    for (let attempt = 0; attempt < STORAGE_FULL_RETRIES; attempt++) {
      expect(shouldRetryStatus(507, 'PATCH', attempt)).toBe(true);
      expect(shouldRetryStatus(507, 'POST', attempt)).toBe(true);
    }
    expect(shouldRetryStatus(507, 'PATCH', STORAGE_FULL_RETRIES)).toBe(false);
    expect(shouldRetryStatus(507, 'POST', RETRY_DELAYS.length - 1)).toBe(false);
    const waited = RETRY_DELAYS.slice(0, STORAGE_FULL_RETRIES).reduce((a, b) => a + b, 0);
    expect(waited).toBeLessThan(60_000);
    // Other 5xx keep the long schedule.
    expect(shouldRetryStatus(503, 'PATCH', RETRY_DELAYS.length - 1)).toBe(true);
  });
});

describe('shouldNudgeOnOnline', () => {
  it('restarts uploads that wait for a retry delay', () => {
    expect(shouldNudgeOnOnline({ uploading: true, reconnecting: true, queuePaused: false })).toBe(true);
  });
  it('leaves uploads alone that are not reconnecting, or that Uppy resumes itself', () => {
    expect(shouldNudgeOnOnline({ uploading: true, reconnecting: false, queuePaused: false })).toBe(false);
    expect(shouldNudgeOnOnline({ uploading: false, reconnecting: true, queuePaused: false })).toBe(false);
    expect(shouldNudgeOnOnline({ uploading: true, reconnecting: true, queuePaused: true })).toBe(false);
  });
});

describe('RETRY_DELAYS', () => {
  it('keeps retrying an outage for about half an hour, at most a minute apart', () => {
    const total = RETRY_DELAYS.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(30 * 60_000);
    expect(Math.max(...RETRY_DELAYS)).toBe(60_000);
    expect(RETRY_DELAYS[0]).toBe(0);
  });
});
