/** The values of `ferry`'s options, checked against the server's limits (shared/limits.ts) and formats. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
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

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** A share's or request's id (16 base64url characters) that begins with a dash. */
const DASHED_ID = /^-[A-Za-z0-9_-]{15}$/;

/**
 * `args` as node:util parseArgs must see them so that an id beginning with a dash (1 id in
 * 64: `ferry inbox -iK3…`) is a positional and not an unknown option: moved behind a `--`.
 * As the value of the long option before it (`--to -x…`) it is joined to it (`--to=-x…`),
 * which parseArgs would otherwise refuse as ambiguous.
 */
export function positionalIds(args: readonly string[], options: ParseArgsOptionsConfig): string[] {
  const kept: string[] = [];
  const moved: string[] = [];
  for (const [i, arg] of args.entries()) {
    if (arg === '--') {
      kept.push(...args.slice(i));
      return [...kept, ...moved];
    }
    if (!DASHED_ID.test(arg)) {
      kept.push(arg);
      continue;
    }
    const before = i > 0 ? args[i - 1]! : '';
    const option = before.startsWith('--') && !before.includes('=') ? options[before.slice(2)] : undefined;
    if (option?.type === 'string' && kept.at(-1) === before) kept[kept.length - 1] = `${before}=${arg}`;
    else moved.push(arg);
  }
  return moved.length > 0 ? [...kept, '--', ...moved] : kept;
}

/** parseArgs for one of ferry's commands: its options, positionals allowed, ids as `positionalIds` says. */
export function parseCommand<const O extends ParseArgsOptionsConfig>(args: readonly string[], options: O) {
  return parseArgs({ args: positionalIds(args, options), allowPositionals: true as const, options });
}
