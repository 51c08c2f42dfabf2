/**
 * The routes of the `ferry` command's direct transfers beside a real browser, as a person
 * meets them (cli-direct.spec.ts has the plain transfers and the relay fallback mid-file):
 *
 * - the mailbox, both ways: the app sends to its paired command while no `ferry receive
 *   --nearby` runs, and the command started later takes the files from its mailbox; `ferry
 *   send --to` the app while its page is closed, and the page opened later receives them.
 * - the paired-device fallback: no WebRTC connection reaches the app (its page can make no
 *   RTCPeerConnection), so after 15 s the command sends through the relay share with the
 *   offer sealed for the paired device.
 * - a reconnection, both ways: the channel is cut mid-file once an acknowledgement crossed
 *   it, a new connection opens, and the transfer resumes from the first record the recipient
 *   lacks, with no relay share made.
 *
 * Paired journeys put the page on a network of its own (X-Forwarded-For from a trusted
 * proxy), as paired devices usually are: it is never also a nearby device of the command.
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
  requestsLogged,
  test,
  waitingNearby,
} from './support/cli-journey.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB, sha256 } from './support/files.ts';
import { onNetwork } from './support/pairing.ts';
import { frameKey, PeerWatcher } from './support/peer-cut.ts';
import { watchText } from './support/seen-text.ts';

test.use({ ferryEnv: { FERRY_TRUSTED_PROXIES: '127.0.0.1,::1' } });
/** Direct transfers are CPU-bound on a loaded 2-core machine (ARCHITECTURE.md has the figures). */
test.describe.configure({ timeout: 300_000 });

const RECORD = 64 * 1024;
const CLI_NAME = 'Build box';

/** The page's network, apart from the command's (loopback, no forwarded address). */
const PAGE_NETWORK = '198.51.100.20';

test.describe('the mailbox', () => {
  test('the app sends to its paired ferry while no ferry receive --nearby runs; the command started later takes the files from its mailbox, identical, and the app says they were received', async ({
    ferry,
    files,
    sender,
    cli: ferryCli,
  }) => {
    await onNetwork(sender.page.context(), PAGE_NETWORK);
    const cli = ferryCli('state');
    const app = new PairingPage(sender.page);
    await app.open();
    const appName = await pairWithCommand(app, cli, ferry.url, CLI_NAME);
    // `ferry pair` has ended and nothing else runs: the command's tile is the offline one.
    const tile = app.tileItem(CLI_NAME);
    await expect(tile).toContainText('Paired · offline', { timeout: 30_000 });
    const data = await files.file('mailbox/for-cli-4r.bin', 3 * MiB + 5);
    await app.sendFiles(CLI_NAME, data.path);
    await expect(tile.getByText(`Sent to ${CLI_NAME} through the server, end-to-end encrypted.`)).toBeVisible({
      timeout: 60_000,
    });
    await expect(tile.getByText(`Waiting for ${CLI_NAME} to accept.`)).toBeVisible();

    // Later, on the command's machine: it comes online and finds the sealed offer waiting.
    const out = join(files.dir, 'received');
    const receiving = cli.start(['receive', '--nearby', '--yes', '-o', out, '--server', ferry.url, '--name', CLI_NAME]);
    const received = await receiving.exited;
    expect(received.status, received.stderr).toBe(0);
    expect(received.stderr).toContain(`${appName} offers 1 file(s):`);
    expect(received.stderr).toContain("(sent through Ferry's server while no direct connection opened)");
    expect(received.stderr).toContain(`Route: through Ferry's server (relay) from ${appName}.`);
    expect(received.stderr).not.toContain('Route: directly');
    expect(sha256(await readFile(join(out, 'for-cli-4r.bin')))).toBe(data.sha256);
    expect(await readdir(out)).toEqual(['for-cli-4r.bin']);
    // As between two browsers: the sealed answer, then the server's download count, reach the tab.
    await expect(sender.page.getByText(`${CLI_NAME} accepted and received the files.`)).toBeVisible({
      timeout: 60_000,
    });
  });

  test('ferry send --to the paired app while its page is closed: the files wait on the server, and the page opened later receives them identical', async ({
    ferry,
    files,
    receiver,
    cli: ferryCli,
  }) => {
    const context = receiver.page.context();
    await onNetwork(context, PAGE_NETWORK);
    const cli = ferryCli('state');
    const app = new PairingPage(receiver.page);
    await app.open();
    const appName = await pairWithCommand(app, cli, ferry.url, CLI_NAME);
    await receiver.page.close();

    const data = await files.file('mailbox/for-app-8d.bin', 3 * MiB + 9);
    const sent = await cli.run(['send', '--to', appName, data.path, '--server', ferry.url, '--name', CLI_NAME]);
    expect(sent.status, sent.stderr).toBe(0);
    expect(sent.stderr).toContain(
      `Route: through Ferry's server (relay) to ${appName}, which is offline: the offer waits in its mailbox.`,
    );
    expect(sent.stderr).toContain(`Stored on the server for ${appName}: it can accept the files for a day`);

    // The person opens Ferry again in the same browser (its pairing kept) and finds the offer.
    const page = await context.newPage();
    const again = new PairingPage(page);
    await again.open();
    const offer = again.offer(CLI_NAME);
    await expect(offer.getByText('for-app-8d.bin')).toBeVisible({ timeout: 60_000 });
    await expect(offer.getByText('Sent through the server')).toBeVisible();
    const download = page.waitForEvent('download', { timeout: 150_000 });
    await offer.getByRole('button', { name: 'Accept' }).click();
    expect(await downloadHash(await download)).toBe(data.sha256);
    await expect(offer.getByText('Received and verified.')).toBeVisible();

    // The sealed answer waited in the command's mailbox: the next ferry receive --nearby says
    // it and goes on waiting for files (an answer is not an offer).
    const out = join(files.dir, 'received');
    const waiting = await waitingNearby(cli, ferry.url, out, CLI_NAME);
    await expect
      .poll(waiting.stderr, { timeout: 30_000 })
      .toContain(`${appName} accepted the files you sent it through Ferry's server.`);
    expect(waiting.stderr()).not.toMatch(/^ferry: /m);
    expect(waiting.child.exitCode).toBeNull();
  });
});

test('ferry send --to a paired app that no WebRTC connection reaches: after 15 s the files go through the relay share with a sealed offer, identical', async ({
  ferry,
  files,
  receiver,
  cli: ferryCli,
}) => {
  await onNetwork(receiver.page.context(), PAGE_NETWORK);
  const watch = await PeerWatcher.on(receiver.page);
  const cli = ferryCli('state');
  const app = new PairingPage(receiver.page);
  await app.open();
  const appName = await pairWithCommand(app, cli, ferry.url, CLI_NAME);
  // From now on the page can make no RTCPeerConnection, as on a network that allows no WebRTC.
  await watch.refuseNewConnections();
  const connections = await watch.connectionCount();

  const data = await files.file('relay/no-route-5j.bin', 5 * MiB + 3);
  const sending = cli.start(['send', '--to', appName, data.path, '--server', ferry.url, '--name', CLI_NAME]);
  const offer = app.offer(CLI_NAME);
  // 15 s for a connection that never opens, then the sealed offer by relay.
  await expect(offer.getByText('no-route-5j.bin')).toBeVisible({ timeout: 90_000 });
  await expect(offer.getByText('Sent through the server because a direct connection was not possible.')).toBeVisible();
  const download = receiver.page.waitForEvent('download', { timeout: 150_000 });
  await offer.getByRole('button', { name: 'Accept' }).click();
  expect(await downloadHash(await download)).toBe(data.sha256);
  await expect(offer.getByText('Received and verified.')).toBeVisible();

  const sent = await sending.exited;
  expect(sent.status, sent.stderr).toBe(0);
  expect(sent.stderr).toContain(`No direct connection to ${appName} opened within 15 s.`);
  expect(sent.stderr).toContain(`Route: through Ferry's server (relay) to ${appName}.`);
  expect(sent.stderr).not.toContain('Route: directly');
  expect(sent.stderr).toContain(`Sent to ${appName} through Ferry's server.`);
  // No connection opened on the page's side; one share carried the files.
  expect(await watch.connectionCount()).toBe(connections);
  expect(requestsLogged(ferry.log, 'POST', '/api/shares')).toBe(1);
});

test.describe('a reconnection between the command and the app', () => {
  const size = 20 * MiB;
  const records = size / RECORD;

  test('the app sends to ferry receive --nearby, the channel is cut mid-file after an ack: a new connection resumes from the first record the command lacks, no relay share, identical', async ({
    ferry,
    files,
    sender,
    cli: ferryCli,
  }) => {
    const cli = ferryCli('state');
    const app = new NearbyPage(sender.page);
    const watch = await PeerWatcher.on(sender.page);
    const data = await files.file('direct/resume-to-cli.bin', size);
    const out = join(files.dir, 'received');
    const server = oneNetwork(ferry.url);
    const { receiving, appName } = await appOffersToCommand(app, cli, {
      server,
      out,
      name: 'Resume box',
      path: data.path,
    });
    // The command's tile (and what it says) goes once the command ends: watch for the words.
    const sawSent = await watchText(sender.page, 'Sent to Resume box.');
    const sawResumed = await watchText(sender.page, 'Resumed after the connection dropped.');
    // Half the file in, once the command acknowledged some: the page's connection closes.
    await watch.cutAfterRecords(records / 2, { afterAck: true });
    answer(receiving.child, 'y');

    const received = await receiving.exited;
    expect(received.status, received.stderr).toBe(0);
    expect(sha256(await readFile(join(out, 'resume-to-cli.bin')))).toBe(data.sha256);
    expect(received.stderr).toContain(`Route: directly from ${appName} (WebRTC).`);
    expect(received.stderr).toMatch(/The connection to .* was lost/);
    expect(received.stderr).toContain(`Route: directly from ${appName} again (resumed).`);
    expect(received.stderr).not.toContain("Route: through Ferry's server");
    await expect.poll(sawSent).toBe(true);
    expect(await sawResumed()).toBe(true);

    // The command answered where to go on; the new connection started there and sent the rest once.
    const resumedAt = await watch.resumedAt();
    expect(resumedAt).toHaveLength(1);
    const from = resumedAt[0]![0]!;
    const sent = await watch.sent();
    const before = sent.filter((f) => f.connection === 0);
    const after = sent.filter((f) => f.connection > 0);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(before.length);
    expect(after[0]?.record).toBe(from);
    expect(after.map(frameKey)).toEqual(Array.from({ length: records - from }, (_, i) => `0:${from + i}`));
    expect(await watch.connectionCount()).toBeGreaterThanOrEqual(2);
    expect(requestsLogged(ferry.log, 'POST', '/api/shares')).toBe(0);
    console.log(`records ${records}: ${before.length} sent before the cut, resumed at ${from}`);
  });

  test('ferry send --to the app, the channel is cut mid-file after an ack: the command reconnects and resumes from the first record the app lacks, no relay share, identical', async ({
    ferry,
    files,
    receiver,
    cli: ferryCli,
  }) => {
    const cli = ferryCli('state');
    const app = new NearbyPage(receiver.page);
    const watch = await PeerWatcher.on(receiver.page);
    const data = await files.file('direct/resume-to-app.bin', size);
    const server = oneNetwork(ferry.url);
    const { sending, appName, offer } = await commandOffersToApp(app, cli, {
      server,
      name: CLI_NAME,
      path: data.path,
    });
    // Half the file in, once the page acknowledged some: its connection closes.
    await watch.cutAfterRecords(records / 2, { afterAck: true });
    const [download] = await Promise.all([
      receiver.page.waitForEvent('download', { timeout: 240_000 }),
      offer.getByRole('button', { name: 'Accept' }).click(),
    ]);
    expect(await downloadHash(download)).toBe(data.sha256);
    await expect(offer.getByText('Received and verified.')).toBeVisible();
    await expect(offer.getByText('Resumed after the connection dropped.')).toBeVisible();

    const sent = await sending.exited;
    expect(sent.status, sent.stderr).toBe(0);
    expect(sent.stderr).toContain(`The connection to ${appName} was lost; reconnecting…`);
    expect(sent.stderr).toContain(`Route: directly to ${appName} again (resumed).`);
    expect(sent.stderr).toContain(`Sent to ${appName}.`);
    expect(sent.stderr).not.toContain("Route: through Ferry's server");

    // Every record reached the page exactly once; the new connection began at the first it lacked.
    const received = await watch.received();
    const before = received.filter((f) => f.connection === 0);
    const after = received.filter((f) => f.connection > 0);
    expect(before.length).toBeGreaterThan(0);
    expect(received.map(frameKey)).toEqual(Array.from({ length: records }, (_, i) => `0:${i}`));
    expect(after[0]?.record).toBe(before.length);
    expect(await watch.connectionCount()).toBeGreaterThanOrEqual(2);
    expect(requestsLogged(ferry.log, 'POST', '/api/shares')).toBe(0);
    console.log(`records ${records}: ${before.length} received before the cut, ${after.length} after`);
  });
});
