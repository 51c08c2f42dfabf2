/** The requester's choices for a request link, and the sender's check against what is left. */
import { DEFAULT_RECORD_SIZE, MAX_EXPIRY_SECONDS, MIN_EXPIRY_SECONDS } from '../../../shared/limits.ts';
import { encryptedSize } from '../../../shared/records.ts';
import { type CreateRequestBody, MAX_REQUEST_FILES, type RequestInfo } from '../../../shared/request-api.ts';
import { noteProblem } from '../../../shared/request-link.ts';
import { formatBytes } from '../transfer/receive/format.ts';

const MB = 1_000_000;
/** 1 TB: far above what a server takes (FERRY_MAX_UPLOAD_BYTES), but a bound on typing. */
const MAX_MEGABYTES = 1_000_000;

/** The form's raw values (number inputs' text). */
export interface RequestSettingsInput {
  megabytes: string;
  files: string;
  expiresInSeconds: number;
  /** For senders; travels in the link's fragment, never to the server. */
  note: string;
}

export type RequestSettingsErrors = Partial<Record<keyof RequestSettingsInput, string>>;

export type RequestSettingsResult =
  | { ok: true; body: CreateRequestBody; note: string }
  | { ok: false; errors: RequestSettingsErrors };

function wholeNumber(text: string, min: number, max: number): number | undefined {
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

export function validateRequestSettings(input: RequestSettingsInput): RequestSettingsResult {
  const errors: RequestSettingsErrors = {};
  const megabytes = wholeNumber(input.megabytes, 1, MAX_MEGABYTES);
  if (megabytes === undefined) errors.megabytes = `Enter a whole number of megabytes from 1 to ${MAX_MEGABYTES}.`;
  const files = wholeNumber(input.files, 1, MAX_REQUEST_FILES);
  if (files === undefined) errors.files = `Enter a whole number of files from 1 to ${MAX_REQUEST_FILES}.`;
  const expiry = input.expiresInSeconds;
  if (!Number.isInteger(expiry) || expiry < MIN_EXPIRY_SECONDS || expiry > MAX_EXPIRY_SECONDS) {
    errors.expiresInSeconds = 'Choose between 5 minutes and 7 days.';
  }
  const note = input.note.trim();
  const problem = noteProblem(note);
  if (problem) errors.note = problem;
  if (megabytes === undefined || files === undefined || Object.keys(errors).length > 0) return { ok: false, errors };
  // The server counts stored bytes: each 64 KiB record carries a 16-byte tag (0.03 % more).
  const maxBytes = encryptedSize({ size: megabytes * MB, recordSize: DEFAULT_RECORD_SIZE });
  return { ok: true, body: { maxBytes, maxFiles: files, expiresInSeconds: expiry }, note };
}

/** What the request still takes, for people: "3 files and 12.5 MB". */
export function remainingText(info: RequestInfo): string {
  const files = info.maxFiles - info.usedFiles;
  return `${files} ${files === 1 ? 'file' : 'files'} and ${formatBytes(Math.max(0, info.maxBytes - info.usedBytes))}`;
}

/**
 * Why these files do not fit what the request has left, or null when they fit. Sizes are
 * counted as the server counts them: encrypted, with the records the sender will use.
 */
export function limitProblem(info: RequestInfo, files: readonly { size: number }[], recordSize: number): string | null {
  const filesLeft = info.maxFiles - info.usedFiles;
  if (filesLeft <= 0) return 'This request is full: it takes no more files.';
  if (files.length > filesLeft) {
    return `This request takes ${filesLeft} more ${filesLeft === 1 ? 'file' : 'files'}; you chose ${files.length}. Remove some and send again.`;
  }
  const bytes = files.reduce((sum, f) => sum + encryptedSize({ size: f.size, recordSize }), 0);
  const bytesLeft = info.maxBytes - info.usedBytes;
  if (bytes > bytesLeft) {
    return `These files are too large for this request: ${formatBytes(bytes)} chosen, ${formatBytes(Math.max(0, bytesLeft))} left. Remove some and send again.`;
  }
  return null;
}
