/**
 * `ferry request` and `ferry inbox`: a request link made from the command line, a person
 * who opens it in the app and sends files through the page, and the command that fetches
 * and verifies them byte for byte. A request that is unknown, expired or asked for wrongly
 * is answered with a stable code and a non-zero exit; tampered ciphertext is refused with
 * the file and record named and nothing kept.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from './fixtures.ts';
import type { SendPage } from './pages/send-page.ts';
import { expireRequest } from './support/clock.ts';
import { FerryCli } from './support/ferry-cli.ts';
import { MiB, sha256 } from './support/files.ts';
import { encryptedSize, flipStoredByte } from './support/tamper.ts';

const REQUEST_LINK = /^http:\/\/localhost:\d+\/r\/([A-Za-z0-9_-]{16})#B[A-P][A-Za-z0-9_-]{85}(\.[A-Za-z0-9_-]+)?$/;

/** The request's page in the sender's browser: picks the files and sends them, as a person would. */
async function sendThroughRequest(sender: SendPage, link: string, paths: string[]): Promise<void> {
  await sender.page.goto(link);
  await expect(sender.page.getByRole('heading', { name: 'Send files on request' })).toBeVisible();
  await sender.addFiles(paths);
  await sender.send();
  await expect(sender.page.getByRole('status').filter({ hasText: 'Sent.' })).toBeVisible({ timeout: 120_000 });
}

test('ferry request: a person sends files through the link in the app; ferry inbox fetches the same bytes', async ({
  ferry,
  files,
  sender,
}) => {
  // Five runs of the command and a page's upload on a machine shared with other runs.
  test.slow();
  const cli = new FerryCli(join(files.dir, 'state'));
  const note = 'Invoices for March, please';
  const made = await cli.run([
    'request',
    '--server',
    ferry.url,
    '--expire',
    '1h',
    '--files',
    '3',
    '--megabytes',
    '20',
    '--note',
    note,
    '--json',
  ]);
  expect(made.status, made.stderr).toBe(0);
  const request = JSON.parse(made.stdout) as { link: string; id: string; maxFiles: number };
  expect(request.link).toMatch(REQUEST_LINK);
  expect(request.link).toContain(`/r/${request.id}#`);
  expect(request.maxFiles).toBe(3);

  const invoice = await files.file('cli-inbox-invoice-7q.bin', 3 * MiB + 5);
  const small = await files.file('cli-inbox-note-2k.txt', 700);
  await sendThroughRequest(sender, request.link, [invoice.path, small.path]);
  await expect(sender.page.getByRole('blockquote', { name: 'Their note' })).toHaveText(note);

  const listed = await cli.run(['inbox', '--json']);
  expect(listed.status, listed.stderr).toBe(0);
  expect(JSON.parse(listed.stdout)).toEqual([
    expect.objectContaining({ id: request.id, state: 'open', uploads: 1, waiting: 1, link: request.link }),
  ]);

  const out = join(files.dir, 'inbox');
  const fetched = await cli.run(['inbox', request.link, '-o', out]);
  expect(fetched.status, fetched.stderr).toBe(0);
  expect(fetched.stderr).toContain(`received ${join(out, invoice.name)}`);
  expect((await readdir(out)).sort()).toEqual([invoice.name, small.name].sort());
  expect(sha256(await readFile(join(out, invoice.name)))).toBe(invoice.sha256);
  expect(sha256(await readFile(join(out, small.name)))).toBe(small.sha256);

  // Run again: nothing new, nothing fetched twice (no CONFLICT over the files already there).
  const again = await cli.run(['inbox', request.id, '-o', out, '--json']);
  expect(again.status, again.stderr).toBe(0);
  const result = JSON.parse(again.stdout) as { state: string; uploads: Array<{ fetched: boolean; files: unknown[] }> };
  expect(result.state).toBe('open');
  expect(result.uploads).toEqual([expect.objectContaining({ fetched: true, files: [] })]);
});

test('ferry inbox refuses tampered ciphertext, names the file and record, and keeps nothing', async ({
  ferry,
  files,
  sender,
}) => {
  test.slow();
  const cli = new FerryCli(join(files.dir, 'state'));
  const made = await cli.run(['request', '--server', ferry.url]);
  expect(made.status, made.stderr).toBe(0);
  const link = made.stdout.trim();
  expect(link).toMatch(REQUEST_LINK);
  const scan = await files.file('cli-inbox-scan-5d.bin', 2 * MiB + 9);
  await sendThroughRequest(sender, link, [scan.path]);
  await flipStoredByte(ferry.dataDir, encryptedSize(scan.size));

  const out = join(files.dir, 'inbox');
  const got = await cli.run(['inbox', link, '-o', out]);
  expect(got.status).toBe(3);
  // flipStoredByte changes a byte just past the middle: record 16 of 33 records of 64 KiB.
  expect(got.stderr).toContain(`ferry: RECORD_AUTH_FAILED: ${scan.name}: record 16 failed verification.`);
  expect(await readdir(out).catch(() => [])).toEqual([]);
});

test('an unknown, expired or malformed request is refused with a stable code and a non-zero exit', async ({
  ferry,
  files,
}) => {
  test.slow();
  const cli = new FerryCli(join(files.dir, 'state'));
  const tooShort = await cli.run(['request', '--server', ferry.url, '--expire', '1m']);
  expect(tooShort.status).toBe(2);
  expect(tooShort.stderr).toContain('ferry: BAD_REQUEST: --expire must be between 5m and 7d');
  expect(tooShort.stdout).toBe('');

  const notALink = await cli.run(['inbox', 'https://example.test/s/nothing']);
  expect(notALink.status).toBe(2);
  expect(notALink.stderr).toContain('ferry: BAD_REQUEST:');

  // Made elsewhere: this machine does not hold its private key.
  const elsewhere = await cli.run(['inbox', 'AAAAAAAAAAAAAAAA']);
  expect(elsewhere.status).toBe(5);
  expect(elsewhere.stderr).toContain('ferry: REQUEST_NOT_FOUND: This machine did not make request AAAAAAAAAAAAAAAA');

  const made = await cli.run(['request', '--server', ferry.url, '--expire', '5m', '--json']);
  expect(made.status, made.stderr).toBe(0);
  const { id } = JSON.parse(made.stdout) as { id: string };
  expireRequest(ferry.dataDir, id);
  const expired = await cli.run(['inbox', id, '-o', join(files.dir, 'inbox')]);
  expect(expired.status).toBe(5);
  expect(expired.stderr).toContain(`ferry: REQUEST_EXPIRED: Request ${id} has expired`);
  // Senders opening the link are told the same by the server.
  const late = await fetch(`${ferry.url}/api/requests/${id}`);
  expect(late.status).toBe(410);
  expect(await late.json()).toMatchObject({ error: { code: 'REQUEST_EXPIRED' } });
});
