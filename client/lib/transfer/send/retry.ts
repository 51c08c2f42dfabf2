/**
 * When a tus request fails, whether to try again (tus-js-client `onShouldRetry`).
 * Network failures and 5xx are transient (a restarting server answers nothing, then 503);
 * 409 to a PATCH (offset mismatch) and 423 (locked) resolve themselves after a HEAD; 429 asks us to
 * slow down; any other 4xx is an answer that will not change (revoked, expired, too large);
 * 507 (out of space) is retried a few times only.
 */

/**
 * Back-off between attempts. tus-js-client gives up once the list is used up (it starts
 * over only after bytes were accepted), so a minute-long step is repeated: a server or
 * network outage keeps being retried for about half an hour before the send fails
 * (resumable from "Unfinished uploads").
 */
export const RETRY_DELAYS: number[] = [
  0,
  1000,
  3000,
  5000,
  10_000,
  20_000,
  30_000,
  30_000,
  30_000,
  ...Array.from({ length: 30 }, () => 60_000),
];

/**
 * A 507 (the server is out of space) is asked again this many times, about 20 s of
 * RETRY_DELAYS (the sweeper may free space meanwhile), not for half an hour: then the send
 * fails with "The server is out of space; try again later." and stays resumable.
 */
export const STORAGE_FULL_RETRIES = 5;

/** Whether to try again after an answer of `status` to `method`; `attempt` counts from 0. */
export function shouldRetryStatus(status: number | undefined, method = 'PATCH', attempt = 0): boolean {
  if (status === undefined || status === 0) return true;
  if (status === 507) return attempt < STORAGE_FULL_RETRIES;
  // A 409 to a creation means the slot already has an upload: asking again cannot help
  // (the sender continues that upload instead, see lost-creation.ts).
  if (status === 409 && method === 'POST') return false;
  if (status === 409 || status === 423 || status === 429) return true;
  if (status >= 400 && status < 500) return false;
  return true;
}

/**
 * Whether an `online` event should restart the uploads now rather than when their retry
 * delay runs out (up to a minute). Not while Uppy's queue is paused for being offline:
 * Uppy resumes it on `online` itself, and restarting would race the request it holds.
 */
export function shouldNudgeOnOnline(state: {
  uploading: boolean;
  reconnecting: boolean;
  queuePaused: boolean;
}): boolean {
  return state.uploading && state.reconnecting && !state.queuePaused;
}
