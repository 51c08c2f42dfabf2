/**
 * `ferry send` of bytes the server already holds reuses them, as the app does: the second
 * send of the same file uploads nothing (the server's upload counter stays where it was),
 * and its link still gives the same bytes, in the browser and to `ferry receive`. A blob the
 * server no longer holds (its share revoked) is uploaded again.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { counter, FerryCli } from './support/ferry-cli.ts';
import { MiB, sha256 } from './support/files.ts';
import { encryptedSize } from './support/tamper.ts';

const UPLOADED = 'ferry_uploaded_bytes_total';

test('ferry send of a file it sent before uploads none of its bytes again; the new link opens it', async ({
  ferry,
  files,
  receiver,
}) => {
  // Five runs of the command on a machine shared with other runs.
  test.slow();
  const cli = new FerryCli(join(files.dir, 'state'));
  const doc = await files.file('cli-dedup-archive-6h.bin', 5 * MiB + 3);
  const other = await files.file('cli-dedup-other-2m.bin', 300 * 1024);
  const before = await counter(ferry.url, UPLOADED);
  const first = await cli.run(['send', doc.path, '--server', ferry.url, '--json']);
  expect(first.status, first.stderr).toBe(0);
  const once = await counter(ferry.url, UPLOADED);
  expect(once - before).toBe(encryptedSize(doc.size));

  // Other settings make another share; the same file in it is not uploaded again, the new one is.
  const second = await cli.run(['send', doc.path, other.path, '--server', ferry.url, '--downloads', '2', '--json']);
  expect(second.status, second.stderr).toBe(0);
  expect((await counter(ferry.url, UPLOADED)) - once).toBe(encryptedSize(other.size));
  const { link, id } = JSON.parse(second.stdout) as { link: string; id: string };
  expect(id).not.toBe((JSON.parse(first.stdout) as { id: string }).id);

  const out = join(files.dir, 'received');
  const got = await cli.run(['receive', link, '-o', out]);
  expect(got.status, got.stderr).toBe(0);
  expect(sha256(await readFile(join(out, doc.name)))).toBe(doc.sha256);
  expect(sha256(await readFile(join(out, other.name)))).toBe(other.sha256);

  await receiver.openShare(link);
  expect(await downloadHash(await receiver.download(doc.name))).toBe(doc.sha256);
  await expect(receiver.verified(doc.name)).toBeVisible();
});

test('a remembered blob the server no longer holds is uploaded again', async ({ ferry, files }) => {
  test.slow();
  const state = join(files.dir, 'state');
  const cli = new FerryCli(state);
  const doc = await files.file('cli-dedup-revoked-4t.bin', 2 * MiB + 1);
  const first = await cli.run(['send', doc.path, '--server', ferry.url, '--json']);
  expect(first.status, first.stderr).toBe(0);
  // Revoked from elsewhere (the owner token reached another machine), so this one still
  // remembers the blob, which the server has deleted with its only share.
  const { id } = JSON.parse(first.stdout) as { id: string };
  const { ownerToken } = JSON.parse(await readFile(join(state, 'ferry', 'sent', `${id}.json`), 'utf8'));
  const revoked = await fetch(`${ferry.url}/api/shares/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${ownerToken}` },
  });
  expect(revoked.status).toBe(204);

  const before = await counter(ferry.url, UPLOADED);
  const again = await cli.run(['send', doc.path, '--server', ferry.url, '--json']);
  expect(again.status, again.stderr).toBe(0);
  expect((await counter(ferry.url, UPLOADED)) - before).toBe(encryptedSize(doc.size));
  const out = join(files.dir, 'received');
  const got = await cli.run(['receive', (JSON.parse(again.stdout) as { link: string }).link, '-o', out]);
  expect(got.status, got.stderr).toBe(0);
  expect(sha256(await readFile(join(out, doc.name)))).toBe(doc.sha256);
});
