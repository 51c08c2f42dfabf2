/**
 * Direct transfers of the `ferry` command over WebRTC with nothing stored on the server:
 * `ferry pair` with the app the way two browsers pair (both show the same verification
 * code, the person confirms in the app and answers y at the terminal), then 20 MiB each way
 * over the paired connection, byte for byte; and two commands that pair and send to each
 * other.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NearbyPage } from './pages/nearby-page.ts';
import { PairingPage } from './pages/pairing-page.ts';
import {
  answer,
  appOffersToCommand,
  commandOffersToApp,
  expect,
  oneNetwork,
  pairWithCommand,
  shown,
  test,
  waitingNearby,
} from './support/cli-journey.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB, sha256 } from './support/files.ts';
import { PeerWatcher } from './support/peer-cut.ts';

/** 20 MiB each way, pairing and the app's hashing take a while on a loaded 2-core machine. */
test.describe.configure({ timeout: 300_000 });

test('ferry pair with the app, then 20 MiB each way directly, byte for byte', async ({
  ferry,
  files,
  receiver,
  cli: ferryCli,
}) => {
  const cli = ferryCli('state');
  const app = new PairingPage(receiver.page);
  await app.open();
  const cliName = 'Build box';
  const appName = await pairWithCommand(app, cli, ferry.url, cliName);

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
  // One address for both, so the server puts them in one network room.
  const server = oneNetwork(ferry.url);
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
  const server = oneNetwork(ferry.url);
  const { receiving } = await appOffersToCommand(app, cli, { server, out, name: 'Relay box', path: data.path });
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
  const server = oneNetwork(ferry.url);
  // Not paired: the code is compared (here at the terminal, there with the offer).
  const { sending, appName, offer } = await commandOffersToApp(app, cli, {
    server,
    name: 'Build box',
    path: data.path,
  });
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
