/** `ferry request` and `ferry inbox`: their options and what they print (request.ts does the work). */
import { renderUnicodeCompact } from 'uqr';
import { FerryError } from '../shared/errors.ts';
import { DEFAULT_EXPIRY_SECONDS } from '../shared/limits.ts';
import { parseCommand, parseDuration, parseServer, parseUploadKey } from './options.ts';
import { DEFAULT_REQUEST_FILES, DEFAULT_REQUEST_MEGABYTES, inbox, listRequests, makeRequest } from './request.ts';

export async function runRequest(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {
    server: { type: 'string' },
    'upload-key': { type: 'string' },
    expire: { type: 'string' },
    files: { type: 'string', default: String(DEFAULT_REQUEST_FILES) },
    megabytes: { type: 'string', default: String(DEFAULT_REQUEST_MEGABYTES) },
    note: { type: 'string', default: '' },
    qr: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length > 0) throw new FerryError('BAD_REQUEST', 'ferry request takes no paths.');
  const made = await makeRequest({
    server: parseServer(values.server, process.env.FERRY_SERVER),
    uploadKey: parseUploadKey(values['upload-key'], process.env.FERRY_UPLOAD_KEY),
    expiresInSeconds: values.expire ? parseDuration(values.expire) : DEFAULT_EXPIRY_SECONDS,
    files: Number(values.files),
    megabytes: Number(values.megabytes),
    note: values.note.trim(),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(made)}\n`);
    return;
  }
  if (values.qr) process.stdout.write(`${renderUnicodeCompact(made.link)}\n`);
  process.stdout.write(`${made.link}\n`);
  process.stderr.write(`fetch what arrives with: ferry inbox ${made.id}\n`);
}

export async function runInbox(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {
    output: { type: 'string', short: 'o', default: '.' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length > 1) throw new FerryError('BAD_REQUEST', 'Give at most one request: ferry inbox [REQUEST].');
  const [given] = positionals;
  if (given === undefined) {
    const requests = await listRequests();
    if (values.json) process.stdout.write(`${JSON.stringify(requests)}\n`);
    else {
      for (const r of requests) {
        const expires = new Date(r.expiresAt).toISOString();
        process.stdout.write(
          `${r.id} ${r.state} · ${r.uploads} uploads, ${r.waiting} to fetch · expires ${expires} · ${r.link}\n`,
        );
      }
    }
    return;
  }
  const result = await inbox(given, { out: values.output, quiet: values.json });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  for (const upload of result.uploads) {
    for (const file of upload.files) process.stderr.write(`received ${file.path}\n`);
    if (upload.state === 'uploading') process.stderr.write(`${upload.shareId}: still uploading; run again later\n`);
  }
  const fresh = result.uploads.filter((u) => u.files.length > 0).length;
  process.stderr.write(`${result.id} ${result.state} · ${result.uploads.length} uploads, ${fresh} fetched now\n`);
}
