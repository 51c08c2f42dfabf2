/**
 * Direct transfers of the `ferry` command over WebRTC with nothing stored on the server:
 * `ferry pair` with the app the way two browsers pair (both show the same verification
 * code, the person confirms in the app and answers y at the terminal), then 20 MiB each way
 * over the paired connection, byte for byte; and two commands that pair and send to each
 * other.
 */
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test as base, expect } from './fixtures.ts';
import { NearbyPage } from './pages/nearby-page.ts';
import { PairingPage } from './pages/pairing-page.ts';
import { downloadHash } from './support/downloads.ts';
import { FerryCli } from './support/ferry-cli.ts';
import { MiB, sha256 } from './support/files.ts';
import { PeerWatcher } from './support/peer-cut.ts';

/**
 * `cli(name)`: a `ferry` command with its own state directory, run with FERRY_DEBUG=1; when
 * the test fails, each command's stderr (its signaling and WebRTC steps, stamped in ms) is
 * attached and printed in full, and commands still running are stopped.
 */
const test = base.extend<{ cli: (name: string) => FerryCli }>({
  cli: async ({ files }, use, testInfo) => {
    const made = new Map<string, FerryCli>();
    await use((name) => {
      const cli = new FerryCli(join(files.dir, name), { debug: true });
      made.set(name, cli);
      return cli;
    });
    for (const [name, cli] of made) {
      const transcript = cli.transcript;
      cli.stop();
      if (testInfo.status === testInfo.expectedStatus || !transcript) continue;
      await testInfo.attach(`ferry-${name}.stderr.txt`, { body: transcript, contentType: 'text/plain' });
      // The reporter shows only the start of an attachment; the whole of it goes to the log.
      console.log(`--- ferry ${name}, stderr ---\n${transcript}`);
    }
  },
});

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

test('ferry pair with the app, then 20 MiB each way directly, byte for byte', async ({
  ferry,
  files,
  receiver,
  cli: ferryCli,
}) => {
  const cli = ferryCli('state');
  const app = new PairingPage(receiver.page);
  const appName = await app.open();
  const cliName = 'Build box';

  const pairing = cli.start(['pair', '--server', ferry.url, '--name', cliName], {}, { input: true });
  const code = await shown(pairing.stderr, 'Pairing code');
  await app.enterCode(code);
  // The same verification code on both screens; each person confirms where they are.
  await expect(app.verificationCode()).toHaveText(/^\d{6}$/, { timeout: 30_000 });
  const verification = await shown(pairing.stderr, 'Verification code');
  await expect(app.verificationCode()).toHaveText(verification);
  await app.confirmPairing();
  answer(pairing.child, 'y');
  const paired = await pairing.exited;
  expect(paired.status, paired.stderr).toBe(0);
  expect(paired.stdout).toBe(`Paired with ${appName}.\n`);
  await expect(app.pairing.getByRole('status')).toContainText('Paired with');

  // The app sends to the command, which waits as a device (and accepts from its paired device).
  const toCli = await files.file('direct/to-cli-7q.bin', 20 * MiB);
  const out = join(files.dir, 'received');
  const receiving = cli.start(['receive', '--nearby', '--yes', '-o', out, '--server', ferry.url, '--name', cliName]);
  // Until the command is online its tile is the paired device's offline one (files for it
  // would wait on the server): send once it is here.
  await expect.poll(receiving.stderr, { timeout: 30_000 }).toContain('Waiting for files');
  await expect(app.section.getByText('Paired · offline')).toHaveCount(0, { timeout: 30_000 });
  await expect(app.tileItem(cliName).getByText('Paired', { exact: true })).toBeVisible();
  await app.sendFiles(cliName, toCli.path);
  const received = await receiving.exited;
  expect(received.status, received.stderr).toBe(0);
  expect(received.stderr).toContain(`received ${join(out, 'to-cli-7q.bin')}`);
  expect(sha256(await readFile(join(out, 'to-cli-7q.bin')))).toBe(toCli.sha256);
  expect(await readdir(out)).toEqual(['to-cli-7q.bin']);

  // The command sends to the app by the paired device's name: no code to compare (MAC).
  const toApp = await files.file('direct/to-app-3w.bin', 20 * MiB);
  const sending = cli.start(['send', '--to', appName, toApp.path, '--server', ferry.url, '--name', cliName]);
  const offer = app.offer(cliName);
  await expect(offer.getByText('to-app-3w.bin')).toBeVisible({ timeout: 60_000 });
  const [download] = await Promise.all([
    receiver.page.waitForEvent('download', { timeout: 240_000 }),
    offer.getByRole('button', { name: 'Accept' }).click(),
  ]);
  expect(await downloadHash(download)).toBe(toApp.sha256);
  const sent = await sending.exited;
  expect(sent.status, sent.stderr).toBe(0);
  expect(sent.stderr).toContain(`Sent to ${appName}.`);
});

test('ferry receive --nearby is a device tile in the app on the same network: the code is compared, then the file arrives', async ({
  ferry,
  files,
  sender,
  cli: ferryCli,
}) => {
  const cli = ferryCli('state');
  const app = new PairingPage(sender.page);
  const data = await files.file('direct/nearby-5v.bin', 2 * MiB + 3);
  const out = join(files.dir, 'received');
  // One address for both, so the server puts them in one network room: \`localhost\` may be
  // ::1 for Chromium and 127.0.0.1 for Node (an IPv4 and an IPv6 address are two networks).
  const server = ferry.url.replace('//localhost:', '//127.0.0.1:');
  const receiving = await waitingNearby(cli, server, out, 'Lab box');
  await sender.page.goto(server);
  await expect(app.tile('Lab box')).toBeVisible({ timeout: 30_000 });
  // Not paired: the app's person compares the code before the offer leaves, and the person
  // here sees the same code with the offer before accepting it.
  await app.sendFiles('Lab box', data.path);
  await expect(app.code('Lab box')).toHaveText(/^\d{6}$/, { timeout: 60_000 });
  const shownInApp = await app.code('Lab box').textContent();
  await app.confirmCode();
  await expect.poll(receiving.stderr, { timeout: 30_000 }).toContain('nearby-5v.bin');
  expect(/Verification code: (\d{6})/.exec(receiving.stderr())?.[1]).toBe(shownInApp);
  answer(receiving.child, 'y');
  const received = await receiving.exited;
  expect(received.status, received.stderr).toBe(0);
  expect(sha256(await readFile(join(out, 'nearby-5v.bin')))).toBe(data.sha256);
});

test('two ferry commands pair and send to each other directly; an unknown device is refused', async ({
  ferry,
  files,
  cli,
}) => {
  const alpha = cli('alpha');
  const beta = cli('beta');
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

/** `ferry receive --nearby` as device `name`, its stdin a pipe, once it waits for files. */
async function waitingNearby(cli: FerryCli, server: string, out: string, name: string) {
  const receiving = cli.start(
    ['receive', '--nearby', '-o', out, '--server', server, '--name', name],
    {},
    { input: true },
  );
  await expect.poll(receiving.stderr, { timeout: 30_000 }).toContain('Waiting for files');
  return receiving;
}

/** The app's name on the page at `server` (both on 127.0.0.1: one network room with the command). */
async function openAt(app: NearbyPage, server: string): Promise<string> {
  await app.page.goto(server);
  const self = app.section.getByText('This device appears as').locator('strong');
  await expect(self).toBeVisible({ timeout: 30_000 });
  return (await self.textContent()) ?? '';
}

/*
 * WebRTC that fails mid-file, both ways: the page's connection is closed after some records
 * and no new RTCPeerConnection can be made in it (as on a network that stopped allowing
 * them), so no reconnection opens; after the reconnect window the sender uploads the rest to
 * the relay share derived from the transfer's secret and the recipient reads it from the
 * first record it lacks. The bytes are identical and the command names the route on stderr.
 */
test('the app sends to ferry receive --nearby, WebRTC fails mid-file: the rest arrives through the relay, identical', async ({
  ferry,
  files,
  sender,
  cli: ferryCli,
}) => {
  const cli = ferryCli('state');
  const app = new NearbyPage(sender.page);
  const watch = await PeerWatcher.on(sender.page);
  const data = await files.file('direct/fallback-to-cli.bin', 6 * MiB + 7);
  const out = join(files.dir, 'received');
  // `localhost` may be ::1 for Chromium and 127.0.0.1 for Node: two networks.
  const server = ferry.url.replace('//localhost:', '//127.0.0.1:');
  const receiving = await waitingNearby(cli, server, out, 'Relay box');
  await openAt(app, server);
  await expect(app.tile('Relay box')).toBeVisible({ timeout: 30_000 });
  await app.sendFiles('Relay box', data.path);
  await expect(app.code('Relay box')).toHaveText(/^\d{6}$/, { timeout: 60_000 });
  await app.confirmCode();
  await expect.poll(receiving.stderr, { timeout: 60_000 }).toContain('fallback-to-cli.bin');
  // 2 MiB in (32 records of 64 KiB), the page's connection closes and no new one can open.
  await watch.refuseNewConnections();
  await watch.cutAfterRecords(32);
  answer(receiving.child, 'y');
  const received = await receiving.exited;
  expect(received.status, received.stderr).toBe(0);
  expect(sha256(await readFile(join(out, 'fallback-to-cli.bin')))).toBe(data.sha256);
  expect(received.stderr).toContain('Route: directly from');
  expect(received.stderr).toMatch(/The connection to .* was lost/);
  expect(received.stderr).toContain("Route: through Ferry's server (relay) from");
  // The page made one connection: no reconnection opened, the rest went through the server.
  expect(await watch.connectionCount()).toBe(1);
});

test('ferry send --to an app whose WebRTC fails mid-file falls back to the relay; the app saves identical bytes', async ({
  ferry,
  files,
  receiver,
  cli: ferryCli,
}) => {
  const cli = ferryCli('state');
  const app = new NearbyPage(receiver.page);
  const watch = await PeerWatcher.on(receiver.page);
  const data = await files.file('direct/fallback-to-app.bin', 6 * MiB + 13);
  const server = ferry.url.replace('//localhost:', '//127.0.0.1:');
  const appName = await openAt(app, server);
  const sending = cli.start(
    ['send', '--to', appName, data.path, '--server', server, '--name', 'Build box'],
    {},
    {
      input: true,
    },
  );
  // Not paired: the code is compared (here at the terminal, there with the offer).
  await expect.poll(sending.stderr, { timeout: 60_000 }).toMatch(/Verification code with .*: \d{6}/);
  answer(sending.child, 'y');
  const offer = app.offer('Build box');
  await expect(offer.getByText('fallback-to-app.bin')).toBeVisible({ timeout: 60_000 });
  await watch.refuseNewConnections();
  await watch.cutAfterRecords(32);
  const [download] = await Promise.all([
    receiver.page.waitForEvent('download', { timeout: 240_000 }),
    offer.getByRole('button', { name: 'Accept' }).click(),
  ]);
  expect(await downloadHash(download)).toBe(data.sha256);
  await expect(offer.getByText(/The transfer switched to the relay/)).toBeVisible();
  const sent = await sending.exited;
  expect(sent.status, sent.stderr).toBe(0);
  expect(sent.stderr).toContain(`Route: directly to ${appName} (WebRTC).`);
  expect(sent.stderr).toContain(`The connection to ${appName} was lost; reconnecting…`);
  expect(sent.stderr).toContain("Route: through Ferry's server (relay)");
  expect(sent.stderr).toContain(`Sent to ${appName} through Ferry's server`);
  expect(await watch.connectionCount()).toBe(1);
});
