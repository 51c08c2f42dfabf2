/**
 * `ferry`: send files to a Ferry server and receive them from a link, end-to-end encrypted,
 * from a terminal or a script. README "Command line" documents it.
 *
 *   ferry send PATH… [--server URL] [--upload-key KEY] [--expire 1h] [--downloads N] [--password] [--qr] [--json]
 *   ferry receive LINK [-o DIR|-] [--json]
 *   ferry status [ID|LINK] [--json] · ferry revoke ID|LINK
 *   ferry request [--expire 1h] [--files N] [--megabytes N] [--note TEXT] [--json] · ferry inbox [REQUEST] [-o DIR] [--json]
 *   ferry pair [CODE] [--server URL] [--name NAME]
 *   ferry send --to DEVICE PATH… · ferry receive --nearby [-o DIR|-] [--yes]   (direct, cli/direct/)
 */
import { renderUnicodeCompact } from 'uqr';
import { FerryError } from '../shared/errors.ts';
import { DEFAULT_EXPIRY_SECONDS } from '../shared/limits.ts';
import { askPassword } from './ask.ts';
import { sendTo } from './direct/commands.ts';
import { pair } from './direct/pair.ts';
import { receiveNearby } from './direct/receive-nearby.ts';
import { EXIT, exitOf } from './exit-codes.ts';
import { installHttpFetch } from './http-fetch.ts';
import { revoke, status } from './manage.ts';
import { parseCommand, parseDownloads, parseDuration, parseServer, parseUploadKey } from './options.ts';
import { receive } from './receive.ts';
import { runInbox, runRequest } from './request-commands.ts';
import { send } from './send.ts';

const USAGE = `Usage:
  ferry send PATH… [--server URL] [--upload-key KEY] [--expire 1h] [--downloads N]
             [--password] [--qr] [--json]
  ferry receive LINK [-o DIR|-] [--json]
  ferry send --to DEVICE PATH… [--server URL] [--name NAME]
  ferry receive --nearby [-o DIR|-] [--yes] [--server URL] [--name NAME]
  ferry status [ID|LINK] [--json]
  ferry revoke ID|LINK
  ferry request [--server URL] [--upload-key KEY] [--expire 1h] [--files N]
                [--megabytes N] [--note TEXT] [--json]
  ferry inbox [REQUEST] [-o DIR] [--json]
  ferry pair [CODE] [--server URL] [--name NAME]

PATH may be a file, a folder (sent with its paths) or - (standard input).
The server is --server, else $FERRY_SERVER. A password is asked for on the terminal,
or taken from $FERRY_PASSWORD. A server that wants an upload key gets $FERRY_UPLOAD_KEY
(or --upload-key KEY, which other users see in ps). Run the same send again to resume it.`;

/** A line for the person at the terminal (stderr: stdout is the command's answer). */
function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function runPair(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, { server: { type: 'string' }, name: { type: 'string' } });
  if (positionals.length > 1) throw new FerryError('BAD_REQUEST', 'Give at most one code: ferry pair [CODE].');
  const paired = await pair({
    server: parseServer(values.server, process.env.FERRY_SERVER),
    code: positionals[0],
    name: values.name,
    say,
  });
  process.stdout.write(`Paired with ${paired.name}.\n`);
}

async function runSend(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {
    server: { type: 'string' },
    'upload-key': { type: 'string' },
    expire: { type: 'string' },
    downloads: { type: 'string' },
    password: { type: 'boolean', default: false },
    qr: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    to: { type: 'string' },
    name: { type: 'string' },
  });
  const server = parseServer(values.server, process.env.FERRY_SERVER);
  const uploadKey = parseUploadKey(values['upload-key'], process.env.FERRY_UPLOAD_KEY);
  if (values.to !== undefined) {
    await sendTo(values.to, positionals, { server, name: values.name, quiet: values.json, say, uploadKey });
    return;
  }
  const password = values.password ? await askPassword('Password for the link: ') : '';
  if (values.password && password === '') throw new FerryError('BAD_REQUEST', 'The password is empty.');
  const result = await send(positionals, {
    server,
    uploadKey,
    quiet: values.json,
    settings: {
      expiresInSeconds: values.expire ? parseDuration(values.expire) : DEFAULT_EXPIRY_SECONDS,
      maxDownloads: parseDownloads(values.downloads),
      password,
    },
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  if (values.qr) process.stdout.write(`${renderUnicodeCompact(result.link)}\n`);
  process.stdout.write(`${result.link}\n`);
}

async function runReceive(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {
    output: { type: 'string', short: 'o', default: '.' },
    json: { type: 'boolean', default: false },
    nearby: { type: 'boolean', default: false },
    yes: { type: 'boolean', default: false },
    server: { type: 'string' },
    name: { type: 'string' },
  });
  // With -o - stdout carries the file itself: nothing else may be written there.
  if (values.output === '-' && values.json)
    throw new FerryError('BAD_REQUEST', '-o - writes the file to stdout: leave out --json.');
  if (values.nearby) {
    if (positionals.length > 0) throw new FerryError('BAD_REQUEST', 'ferry receive --nearby takes no link.');
    const paths = await receiveNearby({
      server: parseServer(values.server, process.env.FERRY_SERVER),
      name: values.name,
      out: values.output,
      yes: values.yes,
      quiet: values.json,
      say,
    });
    if (values.json) process.stdout.write(`${JSON.stringify({ files: paths })}\n`);
    else if (values.output !== '-') for (const file of paths) process.stderr.write(`received ${file}\n`);
    return;
  }
  const [link, ...extra] = positionals;
  if (!link || extra.length > 0) throw new FerryError('BAD_REQUEST', 'Give exactly one link: ferry receive LINK.');
  const result = await receive(link, { out: values.output, quiet: values.json });
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if (values.output !== '-') for (const file of result.files) process.stderr.write(`received ${file.path}\n`);
}

async function runStatus(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, { json: { type: 'boolean', default: false } });
  if (positionals.length > 1) throw new FerryError('BAD_REQUEST', 'Give at most one share: ferry status [ID|LINK].');
  const shares = await status(positionals[0]);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(shares)}\n`);
    return;
  }
  for (const share of shares) {
    const downloads = share.downloads === null ? '' : ` · ${share.downloads} of ${share.maxDownloads ?? '∞'} downloads`;
    const expires = new Date(share.expiresAt).toISOString();
    process.stdout.write(`${share.id} ${share.state} · ${share.files} files${downloads} · expires ${expires}\n`);
  }
}

async function runRevoke(args: string[]): Promise<void> {
  const { positionals } = parseCommand(args, {});
  if (positionals.length !== 1 || !positionals[0]) {
    throw new FerryError('BAD_REQUEST', 'Give one share: ferry revoke ID|LINK.');
  }
  process.stderr.write(`revoked ${await revoke(positionals[0])}\n`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'send':
        await runSend(rest);
        return EXIT.OK;
      case 'receive':
        await runReceive(rest);
        return EXIT.OK;
      case 'pair':
        await runPair(rest);
        return EXIT.OK;
      case 'status':
        await runStatus(rest);
        return EXIT.OK;
      case 'revoke':
        await runRevoke(rest);
        return EXIT.OK;
      case 'request':
        await runRequest(rest);
        return EXIT.OK;
      case 'inbox':
        await runInbox(rest);
        return EXIT.OK;
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return EXIT.OK;
      default:
        process.stderr.write(`${USAGE}\n`);
        return EXIT.USAGE;
    }
  } catch (error) {
    // parseArgs throws TypeErrors with a code for unknown or malformed options.
    const usage = error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
    const { status, line } = exitOf(usage ? new FerryError('BAD_REQUEST', error.message) : error);
    process.stderr.write(`${line}\n`);
    return status;
  }
}

process.once('SIGINT', () => {
  process.stderr.write('\nferry: ABORTED: interrupted; run the same command again to resume.\n');
  process.exit(EXIT.INTERRUPTED);
});
installHttpFetch();
process.exitCode = await main(process.argv.slice(2));
