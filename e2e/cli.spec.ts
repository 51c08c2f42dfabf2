/**
 * The `ferry` command against the real server and the app in Chromium: what one sends the
 * other receives byte for byte, tampered ciphertext is refused with the file and record
 * named and nothing kept, and a send cut by a server crash resumes where the server was.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { counter, FerryCli } from './support/ferry-cli.ts';
import { MiB, sha256 } from './support/files.ts';
import { encryptedSize, flipStoredByte } from './support/tamper.ts';

/** cli/send.ts CHUNK_BYTES: ciphertext per PATCH. */
const CHUNK = 8 * MiB;
const LINK = /^http:\/\/localhost:\d+\/s\/[A-Za-z0-9_-]{16}#[A-Za-z0-9_-]+$/m;

test('ferry send: a file and a folder open in the browser, byte for byte', async ({ ferry, files, receiver }) => {
  const cli = new FerryCli(join(files.dir, 'state'));
  const big = await files.file('cli-ledger-5k2.bin', 6 * MiB + 17);
  const album = await files.folder('cli-album-r8t', { 'a-x1.txt': 1000, 'deep/b-x2.bin': 70 * 1024 });
  const sent = await cli.run([
    'send',
    big.path,
    album.path,
    '--server',
    ferry.url,
    '--expire',
    '1h',
    '--downloads',
    '3',
  ]);
  expect(sent.status, sent.stderr).toBe(0);
  const link = sent.stdout.trim();
  expect(link).toMatch(LINK);
  expect(sent.stderr).toMatch(/sending 100% .* left/);

  await receiver.openShare(link);
  await expect(receiver.page.getByRole('heading', { name: '3 files' })).toBeVisible();
  const names = [big.name, ...album.files.map((f) => f.name)];
  for (const name of names) await expect(receiver.downloadButton(name)).toBeVisible();
  const download = await receiver.download(big.name);
  expect(await downloadHash(download)).toBe(big.sha256);
  await expect(receiver.verified(big.name)).toBeVisible();
  const nested = album.files.find((f) => f.name.endsWith('deep/b-x2.bin'))!;
  expect(await downloadHash(await receiver.download(nested.name))).toBe(nested.sha256);
  await expect(receiver.verified(nested.name)).toBeVisible();
});

test('the app sends with a password; ferry receive asks for it and gets the same bytes', async ({ files, sender }) => {
  const cli = new FerryCli(join(files.dir, 'state'));
  const doc = await files.file('app-report-m4q.bin', 3 * MiB + 5);
  const small = await files.file('app-note-z7.txt', 12);
  await sender.open();
  const link = await sender.sendFiles([doc.path, small.path], { password: 'correct horse' });

  const out = join(files.dir, 'received');
  const wrong = await cli.run(['receive', link, '-o', out], { FERRY_PASSWORD: 'wrong horse' });
  expect(wrong.status).toBe(6);
  expect(wrong.stderr).toContain('ferry: WRONG_PASSWORD:');

  const got = await cli.run(['receive', link, '-o', out], { FERRY_PASSWORD: 'correct horse' });
  expect(got.status, got.stderr).toBe(0);
  expect(sha256(await readFile(join(out, doc.name)))).toBe(doc.sha256);
  expect(sha256(await readFile(join(out, small.name)))).toBe(small.sha256);
  expect((await readdir(out)).sort()).toEqual([doc.name, small.name].sort());
});

test('ferry receive refuses tampered ciphertext, names the file and record, and keeps nothing', async ({
  ferry,
  files,
}) => {
  const cli = new FerryCli(join(files.dir, 'state'));
  const good = await files.file('cli-intact-3n.bin', 100 * 1024);
  const bad = await files.file('cli-payroll-8w.bin', 2 * MiB + 9);
  const sent = await cli.run(['send', good.path, bad.path, '--server', ferry.url]);
  expect(sent.status, sent.stderr).toBe(0);
  await flipStoredByte(ferry.dataDir, encryptedSize(bad.size));

  const out = join(files.dir, 'received');
  const got = await cli.run(['receive', sent.stdout.trim(), '-o', out]);
  expect(got.status).toBe(3);
  // flipStoredByte changes a byte just past the middle: record 16 of 33 records of 64 KiB.
  expect(got.stderr).toContain(`ferry: RECORD_AUTH_FAILED: ${bad.name}: record 16 failed verification.`);
  // The intact file came first and is kept; of the tampered one nothing, not even a part.
  expect(await readdir(out)).toEqual([good.name]);
  expect(sha256(await readFile(join(out, good.name)))).toBe(good.sha256);
});

test('ferry receive LINK -o - writes the file to stdout; a tampered one exits 3 with only a prefix there', async ({
  ferry,
  files,
}) => {
  const cli = new FerryCli(join(files.dir, 'state'));
  /** `ferry receive LINK -o -`: its exit, stderr, and the bytes it wrote to stdout. */
  const receive = async (link: string) => {
    const run = cli.start(['receive', link, '-o', '-']);
    const chunks: Buffer[] = [];
    run.child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    const { status, stderr } = await run.exited;
    return { status, stderr, stdout: Buffer.concat(chunks) };
  };

  const whole = await files.file('cli-stdout-5k.bin', 3 * MiB + 11);
  const sent = await cli.run(['send', whole.path, '--server', ferry.url]);
  expect(sent.status, sent.stderr).toBe(0);
  const got = await receive(sent.stdout.trim());
  expect(got.status, got.stderr).toBe(0);
  expect(sha256(got.stdout)).toBe(whole.sha256);

  const bad = await files.file('cli-stdout-bad-2q.bin', 2 * MiB + 9);
  const again = await cli.run(['send', bad.path, '--server', ferry.url]);
  expect(again.status, again.stderr).toBe(0);
  await flipStoredByte(ferry.dataDir, encryptedSize(bad.size));
  const refused = await receive(again.stdout.trim());
  expect(refused.status).toBe(3);
  expect(refused.stderr).toContain(`ferry: RECORD_AUTH_FAILED: ${bad.name}: record 16 failed verification.`);
  // Only verified records went out, in order: a prefix of the file, nothing of record 16 on.
  const prefix = refused.stdout.length;
  expect(prefix).toBeLessThanOrEqual(16 * 64 * 1024);
  expect(prefix % (64 * 1024)).toBe(0);
  expect(sha256(refused.stdout)).toBe(sha256((await readFile(bad.path)).subarray(0, prefix)));
});

test('a send cut by a server crash resumes with the same command, re-sending at most one chunk', async ({
  ferry,
  files,
}, testInfo) => {
  const cli = new FerryCli(join(files.dir, 'state'));
  // Large enough that the upload is still running when the server is killed: at a few
  // hundred MB/s it lasts about a second after the first chunks arrive.
  const big = await files.file('cli-crash-9v.bin', 256 * MiB);
  const total = encryptedSize(big.size);
  const args = ['send', big.path, '--server', ferry.url];
  const first = cli.start(args);
  // Wait until the server holds a few chunks, then crash it mid-upload.
  let before = 0;
  await expect
    .poll(async () => (before = await counter(ferry.url, 'ferry_uploaded_bytes_total')), {
      timeout: 120_000,
      intervals: [50],
    })
    .toBeGreaterThan(2 * CHUNK);
  await ferry.kill('SIGKILL');
  // The command cannot reach the server; it is stopped as a person would with Ctrl-C.
  first.child.kill('SIGINT');
  const cut = await first.exited;
  expect(cut.status, cut.stderr).not.toBe(0);
  expect(before).toBeLessThan(total);

  await ferry.restart();
  const again = await cli.run(args);
  expect(again.status, again.stderr).toBe(0);
  expect(again.stdout.trim()).toMatch(LINK);
  const after = await counter(ferry.url, 'ferry_uploaded_bytes_total');
  // What the restarted server received, plus what the first one had received before the
  // crash (at least `before`), exceeds the file by what was sent twice.
  testInfo.annotations.push({
    type: 'figures',
    description: `ciphertext ${total} B; first server received ≥ ${before} B; restarted server ${after} B; re-sent ≤ ${before + after - total} B`,
  });
  expect(after).toBeLessThanOrEqual(total - before + CHUNK);
  expect(after).toBeGreaterThan(0);

  const out = join(files.dir, 'received');
  const got = await cli.run(['receive', again.stdout.trim(), '-o', out]);
  expect(got.status, got.stderr).toBe(0);
  expect(sha256(await readFile(join(out, big.name)))).toBe(big.sha256);
});

test('ferry status counts downloads of a link this machine sent, and ferry revoke ends it', async ({
  ferry,
  files,
}) => {
  // Seven runs of the command, each starting Node and tsx: about 7 s apiece on a loaded machine.
  test.setTimeout(240_000);
  const cli = new FerryCli(join(files.dir, 'state'));
  const doc = await files.file('cli-status-h3.bin', 200 * 1024);
  const sent = await cli.run(['send', doc.path, '--server', ferry.url, '--downloads', '2', '--json']);
  expect(sent.status, sent.stderr).toBe(0);
  const { link, id } = JSON.parse(sent.stdout) as { link: string; id: string };
  const statusOf = async () => JSON.parse((await cli.run(['status', id, '--json'])).stdout)[0];
  expect(await statusOf()).toMatchObject({ id, state: 'ready', files: 1, downloads: 0, maxDownloads: 2 });

  const got = await cli.run(['receive', link, '-o', join(files.dir, 'one')]);
  expect(got.status, got.stderr).toBe(0);
  expect(await statusOf()).toMatchObject({ downloads: 1 });

  const revoked = await cli.run(['revoke', link]);
  expect(revoked.status, revoked.stderr).toBe(0);
  expect(await statusOf()).toMatchObject({ id, state: 'revoked' });
  const refused = await cli.run(['receive', link, '-o', join(files.dir, 'two')]);
  expect(refused.status).toBe(5);
  expect(refused.stderr).toContain('ferry: SHARE_REVOKED:');
});

test.describe('a server that takes shares only with an upload key', () => {
  const ADMIN_TOKEN = 'e2e-admin-token-cli-4Rw8';
  test.use({ ferryEnv: { FERRY_UPLOAD_ACCESS: 'key', FERRY_ADMIN_TOKEN: ADMIN_TOKEN } });

  test('ferry send is refused without a key and with a wrong one, and sends with FERRY_UPLOAD_KEY', async ({
    ferry,
    files,
  }) => {
    // Four runs of the command, each starting Node and tsx: several seconds apiece when loaded.
    test.setTimeout(180_000);
    const made = await fetch(`${ferry.url}/api/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'CI', maxStoredBytes: null, maxDailyBytes: null, expiresInSeconds: null }),
    });
    expect(made.status).toBe(201);
    const { key } = (await made.json()) as { key: string };
    const cli = new FerryCli(join(files.dir, 'state'));
    const doc = await files.file('cli-keyed-build-7p.bin', 3 * MiB + 11);
    const args = ['send', doc.path, '--server', ferry.url];

    const none = await cli.run(args, { FERRY_UPLOAD_KEY: '' });
    expect(none.status).toBe(7);
    expect(none.stderr).toContain('ferry: UPLOAD_KEY_REQUIRED:');
    expect(none.stderr).toContain('FERRY_UPLOAD_KEY');
    expect(none.stdout).toBe('');

    // Well formed but not one the server made: the server's refusal.
    const wrong = await cli.run([...args, '--upload-key', `fk_${'Q'.repeat(43)}`]);
    expect(wrong.status).toBe(7);
    expect(wrong.stderr).toContain('ferry: UPLOAD_KEY_INVALID: The server did not accept this upload key');
    expect(wrong.stdout).toBe('');

    const sent = await cli.run(args, { FERRY_UPLOAD_KEY: key });
    expect(sent.status, sent.stderr).toBe(0);
    const link = sent.stdout.trim();
    expect(link).toMatch(LINK);

    const out = join(files.dir, 'received');
    const got = await cli.run(['receive', link, '-o', out]);
    expect(got.status, got.stderr).toBe(0);
    expect(await readdir(out)).toEqual([doc.name]);
    expect(sha256(await readFile(join(out, doc.name)))).toBe(doc.sha256);
  });
});
