/** The values of `ferry`'s options, checked against the server's limits (shared/limits.ts) and formats. */
import { uploadKeySchema } from '../shared/access-api.ts';
import { FerryError } from '../shared/errors.ts';
import { MAX_DOWNLOADS, MAX_EXPIRY_SECONDS, MIN_DOWNLOADS, MIN_EXPIRY_SECONDS } from '../shared/limits.ts';

/** "90s", "45m", "1h", "7d" → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (!match) throw new FerryError('BAD_REQUEST', `--expire ${text}: write it as 30m, 1h or 7d.`);
  const seconds = Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  if (seconds < MIN_EXPIRY_SECONDS || seconds > MAX_EXPIRY_SECONDS) {
    throw new FerryError('BAD_REQUEST', `--expire must be between 5m and 7d, not ${text}.`);
  }
  return seconds;
}

export function parseDownloads(text: string | undefined): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < MIN_DOWNLOADS || n > MAX_DOWNLOADS) {
    throw new FerryError(
      'BAD_REQUEST',
      `--downloads must be a whole number from ${MIN_DOWNLOADS} to ${MAX_DOWNLOADS}.`,
    );
  }
  return n;
}

/**
 * The upload key to send on share creation: `--upload-key`, else `$FERRY_UPLOAD_KEY`
 * (the one to prefer: a command line shows in `ps`); none when both are absent or blank.
 * A malformed key is refused here with the code the server would answer it with.
 */
export function parseUploadKey(flag: string | undefined, env: string | undefined): string | null {
  const given = flag?.trim() || env?.trim();
  if (!given) return null;
  if (!uploadKeySchema.safeParse(given).success) {
    const from = flag?.trim() ? '--upload-key' : 'FERRY_UPLOAD_KEY';
    throw new FerryError('UPLOAD_KEY_INVALID', `${from} is not an upload key (fk_ and 43 characters).`);
  }
  return given;
}

/** The server's URL: `--server`, else `$FERRY_SERVER`; BAD_REQUEST when neither is a URL. */
export function parseServer(flag: string | undefined, env: string | undefined): string {
  const server = flag ?? env;
  if (!server) throw new FerryError('BAD_REQUEST', 'Which server? Give --server URL or set FERRY_SERVER.');
  if (!URL.canParse(server)) throw new FerryError('BAD_REQUEST', `--server ${server} is not a URL.`);
  return server;
}
