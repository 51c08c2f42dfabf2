/**
 * What the journeys of the `ferry` command beside a browser share (cli-direct*.spec.ts): a
 * `cli(name)` fixture, the answers a person types at its terminal, and the steps that open a
 * device on each side (a command waiting as a device, the app's page, a pairing of the two).
 */
import type { ChildProcess } from 'node:child_process';
import { basename, join } from 'node:path';
import { test as base, expect } from '../fixtures.ts';
import type { NearbyPage } from '../pages/nearby-page.ts';
import type { PairingPage } from '../pages/pairing-page.ts';
import { FerryCli } from './ferry-cli.ts';

/**
 * `cli(name)`: a `ferry` command with its own state directory, run with FERRY_DEBUG=1; when
 * the test fails, each command's stderr (its signaling and WebRTC steps, stamped in ms) is
 * attached and printed in full, and commands still running are stopped.
 */
export const test = base.extend<{ cli: (name: string) => FerryCli }>({
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

export { expect };

/** The six digits of the last `label: 123 456` line the command wrote on stderr. */
export async function shown(stderr: () => string, label: string): Promise<string> {
  const pattern = new RegExp(`${label}: (\\d{3}) (\\d{3})`);
  await expect.poll(() => pattern.test(stderr()), { timeout: 60_000 }).toBe(true);
  const match = pattern.exec(stderr())!;
  return `${match[1]}${match[2]}`;
}

/** Types a line at the command's terminal. */
export function answer(child: ChildProcess, line: string): void {
  child.stdin?.write(`${line}\n`);
}

/**
 * `server` with 127.0.0.1 for localhost: `localhost` may be ::1 for Chromium and 127.0.0.1
 * for Node, two networks to the server; on one address the command and the page are nearby.
 */
export const oneNetwork = (server: string): string => server.replace('//localhost:', '//127.0.0.1:');

/** `ferry receive --nearby` as device `name`, its stdin a pipe, once it waits for files. */
export async function waitingNearby(cli: FerryCli, server: string, out: string, name: string, extra: string[] = []) {
  const receiving = cli.start(
    ['receive', '--nearby', '-o', out, '--server', server, '--name', name, ...extra],
    {},
    { input: true },
  );
  await expect.poll(receiving.stderr, { timeout: 30_000 }).toContain('Waiting for files');
  return receiving;
}

/** The app's name on the page at `server`. */
export async function openAt(app: NearbyPage, server: string): Promise<string> {
  await app.page.goto(server);
  const self = app.section.getByText('This device appears as').locator('strong');
  await expect(self).toBeVisible({ timeout: 30_000 });
  return (await self.textContent()) ?? '';
}

/**
 * The app (already open) and `ferry pair` as device `name` pair the way two browsers do: the
 * page enters the command's code, both show the same verification code, the person confirms
 * in the app and answers y at the terminal. Answers the app's name, which the command keeps.
 */
export async function pairWithCommand(app: PairingPage, cli: FerryCli, server: string, name: string): Promise<string> {
  const self = app.section.getByText('This device appears as').locator('strong');
  const appName = (await self.textContent()) ?? '';
  const pairing = cli.start(['pair', '--server', server, '--name', name], {}, { input: true });
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
  return appName;
}

/**
 * How many requests the server logged with `method` on route pattern `route` (its request
 * log, one JSON line each: http/request-log.ts), e.g. POST /api/shares, the creation of a share.
 */
export function requestsLogged(serverLog: string, method: string, route: string): number {
  let count = 0;
  for (const line of serverLog.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { method?: unknown; route?: unknown };
      if (entry.method === method && entry.route === route) count++;
    } catch {
      // Not one of the server's JSON lines.
    }
  }
  return count;
}

/**
 * The app at `server` offers the file at `path` to `ferry receive --nearby` as device `name`
 * on the same network (not paired): the person confirms the code in the app, and the command
 * shows the offer, not yet answered (its stdin a pipe). Answers the command and the app's name.
 */
export async function appOffersToCommand(
  app: NearbyPage,
  cli: FerryCli,
  { server, out, name, path }: { server: string; out: string; name: string; path: string },
) {
  const receiving = await waitingNearby(cli, server, out, name);
  const appName = await openAt(app, server);
  await expect(app.tile(name)).toBeVisible({ timeout: 30_000 });
  await app.sendFiles(name, path);
  await expect(app.code(name)).toHaveText(/^\d{6}$/, { timeout: 60_000 });
  await app.confirmCode();
  await expect.poll(receiving.stderr, { timeout: 60_000 }).toContain(basename(path));
  return { receiving, appName };
}

/**
 * `ferry send --to` the app at `server` as device `name` (not paired): the code is compared
 * at the terminal (answered y) and with the offer, which the page then shows, not yet
 * accepted. Answers the command, the app's name and the offer's dialog.
 */
export async function commandOffersToApp(
  app: NearbyPage,
  cli: FerryCli,
  { server, name, path }: { server: string; name: string; path: string },
) {
  const appName = await openAt(app, server);
  const sending = cli.start(['send', '--to', appName, path, '--server', server, '--name', name], {}, { input: true });
  await expect.poll(sending.stderr, { timeout: 60_000 }).toMatch(/Verification code with .*: \d{6}/);
  answer(sending.child, 'y');
  const offer = app.offer(name);
  await expect(offer.getByText(basename(path))).toBeVisible({ timeout: 60_000 });
  return { sending, appName, offer };
}
