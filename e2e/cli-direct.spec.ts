/**
 * Direct transfers of the `ferry` command over WebRTC with nothing stored on the server:
 * two commands pair the way two browsers pair (both show the same verification code, each
 * person answers y at the terminal) and send to each other over the paired connection.
 */
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from './fixtures.ts';
import { FerryCli } from './support/ferry-cli.ts';
import { MiB, sha256 } from './support/files.ts';

/** werift moves 2–5 MB/s on this machine (ARCHITECTURE.md): 20 MiB each way takes a while. */
test.describe.configure({ timeout: 300_000 });

/** The six digits of the last `label: 123 456` line the command wrote on stderr. */
async function shown(stderr: () => string, label: string): Promise<string> {
  const pattern = new RegExp(`${label}: (\\d{3}) (\\d{3})`);
  await expect.poll(() => pattern.test(stderr()), { timeout: 60_000 }).toBe(true);
  const match = pattern.exec(stderr())!;
  return `${match[1]}${match[2]}`;
}

/** Types a line at the command's terminal. */
function answer(child: ChildProcess, line: string): void {
  child.stdin?.write(`${line}\n`);
}

test('two ferry commands pair and send to each other directly; an unknown device is refused', async ({
  ferry,
  files,
}) => {
  const alpha = new FerryCli(join(files.dir, 'alpha'));
  const beta = new FerryCli(join(files.dir, 'beta'));
  const making = alpha.start(['pair', '--server', ferry.url, '--name', 'Alpha'], {}, { input: true });
  const code = await shown(making.stderr, 'Pairing code');
  const joining = beta.start(['pair', code, '--server', ferry.url, '--name', 'Beta'], {}, { input: true });
  const [seenByAlpha, seenByBeta] = await Promise.all([
    shown(making.stderr, 'Verification code'),
    shown(joining.stderr, 'Verification code'),
  ]);
  expect(seenByBeta).toBe(seenByAlpha);
  answer(making.child, 'y');
  answer(joining.child, 'y');
  const [made, joined] = await Promise.all([making.exited, joining.exited]);
  expect(made.status, made.stderr).toBe(0);
  expect(joined.status, joined.stderr).toBe(0);
  expect(made.stdout).toBe('Paired with Beta.\n');
  expect(joined.stdout).toBe('Paired with Alpha.\n');

  const data = await files.file('direct/cli-to-cli-9k.bin', 6 * MiB + 11);
  const out = join(files.dir, 'beta-received');
  const receiving = beta.start(['receive', '--nearby', '--yes', '-o', out, '--server', ferry.url]);
  await expect.poll(receiving.stderr, { timeout: 30_000 }).toContain('Waiting for files');
  const sent = await alpha.run(['send', '--to', 'beta', data.path, '--server', ferry.url]);
  expect(sent.status, sent.stderr).toBe(0);
  const received = await receiving.exited;
  expect(received.status, received.stderr).toBe(0);
  expect(sha256(await readFile(join(out, 'cli-to-cli-9k.bin')))).toBe(data.sha256);

  const nobody = await alpha.run(['send', '--to', 'Gamma', data.path, '--server', ferry.url]);
  expect(nobody.status).toBe(4);
  expect(nobody.stderr).toMatch(/^ferry: PEER_NOT_REACHABLE: .*Gamma/m);
});
