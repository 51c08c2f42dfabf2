/**
 * The `ferry` command's direct transfers when only a relayed route exists: coturn runs on
 * loopback (started here, stopped afterwards even when the test fails) and the server tells
 * every device `iceTransportPolicy: 'relay'` with its TURN credentials, as in the app's
 * TURN journey (p2p-turn.spec.ts). The command uses what the server says, as the app does:
 * two commands pair and send to each other, and the app sends to `ferry receive --nearby`,
 * each through coturn, byte for byte, and the command says the connection was relayed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PairingPage } from './pages/pairing-page.ts';
import { answer, test as cliTest, expect, oneNetwork, shown, waitingNearby } from './support/cli-journey.ts';
import { type Coturn, useCoturn } from './support/coturn.ts';
import { MiB, sha256 } from './support/files.ts';

const test = cliTest.extend<{ coturn: Coturn }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads fixture dependencies from the pattern
  coturn: ({}, use, testInfo) => useCoturn(use, testInfo),
  ferryEnv: async ({ coturn }, use) => {
    await use(coturn.ferryEnv);
  },
});

test.describe.configure({ timeout: 180_000 });

/** Every ICE candidate the command offered (FERRY_DEBUG's `local candidate` lines). */
function localCandidates(stderr: string): string[] {
  return [...stderr.matchAll(/local candidate (candidate:.*)$/gm)].map((m) => m[1]!);
}

test('two ferry commands pair and send through TURN only; both say the connection was relayed', async ({
  ferry,
  coturn,
  files,
  cli,
}) => {
  const alpha = cli('alpha');
  const beta = cli('beta');
  const making = alpha.start(['pair', '--server', ferry.url, '--name', 'Alpha'], {}, { input: true });
  const code = await shown(making.stderr, 'Pairing code');
  const joining = beta.start(['pair', code, '--server', ferry.url, '--name', 'Beta'], {}, { input: true });
  expect(await shown(joining.stderr, 'Verification code')).toBe(await shown(making.stderr, 'Verification code'));
  answer(making.child, 'y');
  answer(joining.child, 'y');
  const [made, joined] = await Promise.all([making.exited, joining.exited]);
  expect(made.status, made.stderr).toBe(0);
  expect(joined.status, joined.stderr).toBe(0);

  const data = await files.file('direct/turn-only-4m.bin', 6 * MiB + 5);
  const out = join(files.dir, 'beta-received');
  const receiving = beta.start(['receive', '--nearby', '--yes', '-o', out, '--server', ferry.url]);
  await expect.poll(receiving.stderr, { timeout: 30_000 }).toContain('Waiting for files');
  const sent = await alpha.run(['send', '--to', 'beta', data.path, '--server', ferry.url]);
  expect(sent.status, sent.stderr).toBe(0);
  const received = await receiving.exited;
  expect(received.status, received.stderr).toBe(0);
  expect(sha256(await readFile(join(out, 'turn-only-4m.bin')))).toBe(data.sha256);

  for (const run of [sent, received]) {
    expect(run.stderr).toContain('Connection: relayed (TURN)');
    expect(run.stderr).not.toContain('Connection: direct');
    // Only relayed candidates were offered: no host address reached the other side.
    const offered = localCandidates(run.stderr);
    expect(offered.length).toBeGreaterThan(0);
    expect(offered.filter((c) => !/ typ relay /.test(c))).toEqual([]);
  }
  expect(sent.stderr).toContain('Route: directly to');
  expect(sent.stderr).not.toContain("through Ferry's server");
  // coturn granted the relays, to users with credentials the Ferry server signed ("<expiry>:<id>").
  expect(await coturn.log()).toMatch(/user <\d+:[\w-]+>: incoming packet ALLOCATE processed, success/);
});

test('the app sends to ferry receive --nearby through TURN only: the code is compared, the bytes are identical', async ({
  ferry,
  files,
  sender,
  cli: ferryCli,
}) => {
  const cli = ferryCli('state');
  const app = new PairingPage(sender.page);
  const data = await files.file('direct/turn-from-app.bin', 3 * MiB + 1);
  const out = join(files.dir, 'received');
  const server = oneNetwork(ferry.url);
  const receiving = await waitingNearby(cli, server, out, 'Relay box');
  await sender.page.goto(server);
  await expect(app.tile('Relay box')).toBeVisible({ timeout: 30_000 });
  await app.sendFiles('Relay box', data.path);
  await expect(app.code('Relay box')).toHaveText(/^\d{6}$/, { timeout: 60_000 });
  const shownInApp = await app.code('Relay box').textContent();
  await app.confirmCode();
  await expect.poll(receiving.stderr, { timeout: 30_000 }).toContain('turn-from-app.bin');
  expect(/Verification code: (\d{6})/.exec(receiving.stderr())?.[1]).toBe(shownInApp);
  answer(receiving.child, 'y');
  const received = await receiving.exited;
  expect(received.status, received.stderr).toBe(0);
  expect(sha256(await readFile(join(out, 'turn-from-app.bin')))).toBe(data.sha256);
  expect(received.stderr).toContain('Connection: relayed (TURN)');
  expect(localCandidates(received.stderr).filter((c) => !/ typ relay /.test(c))).toEqual([]);
});
