/**
 * Pairing by code between two devices on different networks. The server believes
 * X-Forwarded-For from loopback (FERRY_TRUSTED_PROXIES), and each context sends its own
 * address on every request, the WebSocket upgrade included, so the two land in different
 * network rooms and are not nearby. They pair with a 6-digit code (both people compare the
 * verification code once), files go straight over WebRTC, and after a reload the remembered
 * pairing is checked by MAC alone. A real man in the middle on the signaling path (a third
 * page terminating both DTLS sessions) is caught by that MAC before any file byte moves.
 */
import { expect, test } from './fixtures.ts';
import { PairingPage } from './pages/pairing-page.ts';
import { expectNoSeriousViolations } from './support/a11y.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { SignalingMitm } from './support/mitm.ts';
import { onNetwork, pair } from './support/pairing.ts';

/** What auth.ts says when the MACs disagree. */
const REFUSAL = /could not be verified: the other device saw different encryption keys/;

test.use({ ferryEnv: { FERRY_TRUSTED_PROXIES: '127.0.0.1,::1' } });

/** A man in the middle between the two contexts; a failed test gets its event log attached. */
const withMitm = test.extend<{ mitm: SignalingMitm }>({
  mitm: async ({ browser, ferry, senderContext, receiverContext }, use, testInfo) => {
    const mitm = await SignalingMitm.between(browser, `${ferry.url}/health`, senderContext, receiverContext);
    await use(mitm);
    if (testInfo.status !== testInfo.expectedStatus) {
      const { events } = await mitm.log();
      await testInfo.attach('mitm-events.txt', { body: events.join('\n'), contentType: 'text/plain' });
    }
    await mitm.close();
  },
});

/** `from` makes a code and `to` enters it; returns once both screens show a verification code. */
async function startPairing(from: PairingPage, to: PairingPage): Promise<void> {
  await to.enterCode(await from.makeCode());
  await expect(from.verificationCode()).toHaveText(/^\d{6}$/, { timeout: 30_000 });
  await expect(to.verificationCode()).toHaveText(/^\d{6}$/, { timeout: 30_000 });
}

/** Neither device shows a paired tile. */
async function expectNeitherPaired(from: PairingPage, to: PairingPage): Promise<void> {
  await expect(from.section.getByText('Paired', { exact: true })).toHaveCount(0);
  await expect(to.section.getByText('Paired', { exact: true })).toHaveCount(0);
}

test.describe('pairing by code', () => {
  test.describe.configure({ timeout: 240_000 });

  test.beforeEach(async ({ senderContext, receiverContext }) => {
    await onNetwork(senderContext, '203.0.113.10');
    await onNetwork(receiverContext, '198.51.100.20');
  });

  test('devices on different networks pair by code and a 12 MiB file arrives intact', async ({
    sender,
    receiver,
    files,
  }, testInfo) => {
    const big = await files.file('pair/film.mkv', 12 * MiB);
    const from = new PairingPage(sender.page);
    const to = new PairingPage(receiver.page);
    const senderName = await from.open();
    const receiverName = await to.open();

    const code = await from.makeCode();
    await expectNoSeriousViolations(sender.page, testInfo, 'pairing, a code to enter');
    await to.enterCode(code);
    await expect(from.verificationCode()).toHaveText(/^\d{6}$/, { timeout: 30_000 });
    await expectNoSeriousViolations(sender.page, testInfo, 'pairing, codes to compare');
    // Different networks (the X-Forwarded-For of each WebSocket upgrade): until the pairing
    // is done neither sees the other as a nearby device.
    await expect(from.tile(receiverName)).toHaveCount(0);
    await expect(to.tile(senderName)).toHaveCount(0);
    await expect(to.verificationCode()).toHaveText((await from.verificationCode().textContent()) ?? '');
    await from.confirmPairing();
    await to.confirmPairing();
    await expect(from.pairing.getByRole('status')).toContainText('Paired with');
    // The only tile each sees is the paired device's.
    await expect(from.section.getByRole('listitem')).toHaveCount(1);
    await expect(from.tileItem(receiverName)).toContainText('Paired');
    await expect(to.tileItem(senderName)).toContainText('Paired');
    await expectNoSeriousViolations(receiver.page, testInfo, 'pairing, a paired device');

    await from.sendFiles(receiverName, big.path);
    const offer = to.offer(senderName);
    await expect(offer.getByText('film.mkv')).toBeVisible({ timeout: 30_000 });
    const [download] = await Promise.all([
      receiver.page.waitForEvent('download', { timeout: 150_000 }),
      offer.getByRole('button', { name: 'Accept' }).click(),
    ]);
    expect(await downloadHash(download)).toBe(big.sha256);
    await expect(sender.page.getByText(`Sent to ${receiverName}.`)).toBeVisible();
  });

  test('a wrong code is refused with a sentence', async ({ sender, receiver }) => {
    const from = new PairingPage(sender.page);
    const to = new PairingPage(receiver.page);
    await from.open();
    await to.open();
    const code = await from.makeCode();
    const wrong = code === '000000' ? '000001' : '000000';
    await to.enterCode(wrong);
    await expect(to.pairing.getByRole('alert')).toHaveText('This pairing code is wrong, expired or already used.');
    // The refusal belongs to the field: a screen reader says it with the field.
    const field = to.pairing.getByLabel('Enter a pairing code');
    await expect(field).toHaveAccessibleDescription('This pairing code is wrong, expired or already used.');
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await to.enterCode('12');
    await expect(to.pairing.getByRole('alert')).toHaveText('A pairing code is 6 digits, shown on the other device.');
    // A pairing link opened in a tab where Ferry already runs (only the fragment changes).
    await receiver.page.goto(`/#pair=${wrong}`);
    await expect(to.pairing.getByRole('alert')).toHaveText('This pairing code is wrong, expired or already used.');
    await expect.poll(() => new URL(receiver.page.url()).hash).toBe('');
  });

  test('after a reload both are still paired and a file goes with no code to compare', async ({
    sender,
    receiver,
    files,
  }) => {
    const small = await files.file('pair/notes.pdf', 5 * MiB);
    const from = new PairingPage(sender.page);
    const to = new PairingPage(receiver.page);
    await from.open();
    await to.open();
    await pair(from, to);

    const senderName = await from.open();
    const receiverName = await to.open();
    await expect(from.tileItem(receiverName)).toContainText('Paired', { timeout: 20_000 });
    await expect(to.tileItem(senderName)).toContainText('Paired', { timeout: 20_000 });

    await from.sendFiles(receiverName, small.path);
    const offer = to.offer(senderName);
    await expect(offer.getByText('notes.pdf')).toBeVisible({ timeout: 30_000 });
    // MAC mode: neither screen asks the people to compare anything.
    await expect(to.offerCode(senderName)).toHaveCount(0);
    await expect(from.code(receiverName)).toHaveCount(0);
    await expect(sender.page.getByRole('button', { name: 'Codes match' })).toHaveCount(0);
    const [download] = await Promise.all([
      receiver.page.waitForEvent('download', { timeout: 120_000 }),
      offer.getByRole('button', { name: 'Accept' }).click(),
    ]);
    expect(await downloadHash(download)).toBe(small.sha256);

    // A text too goes with nothing to confirm.
    await from.sendText(receiverName, 'Paired, no code needed');
    const message = receiver.page.getByRole('region', { name: `Text from ${senderName}` });
    await expect(message.getByText('Paired, no code needed', { exact: true })).toBeVisible();

    // Forgetting on one side removes the tile there.
    await to
      .tileItem(senderName)
      .getByRole('button', { name: `Forget ${senderName}` })
      .click();
    await expect(to.tile(senderName)).toHaveCount(0);
    await expect(to.pairing.getByRole('status')).toContainText('was forgotten');
  });

  withMitm(
    'a man in the middle on the signaling path is caught before any file byte',
    async ({ mitm, sender, receiver, files }) => {
      const secret = await files.file('pair/secret.zip', 2 * MiB);
      const from = new PairingPage(sender.page);
      const to = new PairingPage(receiver.page);
      await from.open();
      await to.open();
      await pair(from, to);

      // From now on the WebRTC signals between the two go to the man in the middle.
      mitm.active = true;
      const senderName = await from.open();
      const receiverName = await to.open();
      await expect(from.tileItem(receiverName)).toContainText('Paired', { timeout: 20_000 });
      await expect(to.tileItem(senderName)).toContainText('Paired', { timeout: 20_000 });
      await from.sendFiles(receiverName, secret.path);

      await expect(sender.page.getByRole('alert').filter({ hasText: REFUSAL })).toBeVisible({ timeout: 60_000 });
      await expect(receiver.page.getByRole('alert').filter({ hasText: REFUSAL })).toBeVisible({ timeout: 30_000 });
      await expect(to.offer(senderName)).toHaveCount(0);

      // The bridge was real: both sessions opened and both MACs crossed it, and nothing else.
      const seen = await mitm.log();
      expect(mitm.diverted).toBeGreaterThan(0);
      const types = seen.text.map((frame) => (JSON.parse(frame) as { type: string }).type);
      expect(types.filter((type) => type === 'auth')).toHaveLength(2);
      expect(types).not.toContain('offer');
      expect(seen.binaryFrames).toBe(0);
      expect(seen.binaryBytes).toBe(0);
    },
  );

  withMitm(
    'a signaling server that knows the pairing code passes the MAC, but the codes differ and no pairing is stored',
    async ({ mitm, sender, receiver }) => {
      mitm.active = true;
      mitm.knowsPairingCode = true;
      const from = new PairingPage(sender.page);
      const to = new PairingPage(receiver.page);
      await from.open();
      await to.open();

      // Each device completed the code-keyed MAC with the man in the middle and shows a code…
      await startPairing(from, to);
      // …but not the same one: it had to fix its part of each before it could know the other part.
      expect(await to.verificationCode().textContent()).not.toBe(await from.verificationCode().textContent());
      // A careless person confirms anyway: its device's MAC check passes (the man in the middle
      // has the code), so it goes on to send its pairing secret. The MAC alone cannot stop this.
      await from.confirmPairing();
      await expect(from.pairing.getByText('Saving the pairing…')).toBeVisible();
      // The other person compares and says no: that device never keeps anything and leaves the
      // pair room; the first hears it left before any `pair-saved`, so it keeps nothing either.
      await to.pairing.getByRole('button', { name: 'Codes differ' }).click();
      await expect(from.pairing.getByRole('alert')).toHaveText('The other device left.');
      await expect(from.verificationCode()).toHaveCount(0);
      const seen = await mitm.log();
      const types = seen.text.map((frame) => (JSON.parse(frame) as { type: string }).type);
      expect(types.filter((type) => type === 'auth')).toHaveLength(2);
      expect(types).toContain('pair-secret');
      expect(types).not.toContain('pair-saved');
      await expect(from.pairing.getByRole('status')).toHaveCount(0);
      await expect(to.pairing.getByRole('status')).toHaveCount(0);
      mitm.active = false;
      await from.open();
      await to.open();
      await expect(from.pairing.getByRole('button', { name: 'Pair a device' })).toBeVisible();
      await expectNeitherPaired(from, to);
    },
  );

  test('a person who confirmed can give up while the other never answers; neither device keeps the pairing', async ({
    sender,
    receiver,
  }) => {
    const from = new PairingPage(sender.page);
    const to = new PairingPage(receiver.page);
    await from.open();
    await to.open();
    await startPairing(from, to);
    // The creator confirms and sends its secret; the other person never presses anything.
    await from.confirmPairing();
    await from.pairing.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(from.pairing.getByRole('button', { name: 'Pair a device' })).toBeVisible();
    await expect(to.verificationCode()).toHaveCount(0);
    await expectNeitherPaired(from, to);
  });

  test('the pairing link pairs; a pairing outlives a server restart, and one the server no longer knows is forgotten with a notice', async ({
    ferry,
    sender,
    receiver,
  }) => {
    const from = new PairingPage(sender.page);
    const to = new PairingPage(receiver.page);
    await from.open();
    // The other device opens Ferry by the link (a fresh page load there).
    await pair(from, to, 'link');
    // The link's code is not left in the address bar.
    expect(new URL(receiver.page.url()).hash).toBe('');

    // Pair rooms are kept on disk: after a restart both are still paired, and a text goes.
    await ferry.restart();
    const senderName = await from.open();
    const receiverName = await to.open();
    await expect(from.tileItem(receiverName)).toContainText('Paired', { timeout: 30_000 });
    await expect(to.tileItem(senderName)).toContainText('Paired', { timeout: 30_000 });
    await from.sendText(receiverName, 'Still paired after a restart');
    const message = receiver.page.getByRole('region', { name: `Text from ${senderName}` });
    await expect(message.getByText('Still paired after a restart', { exact: true })).toBeVisible({ timeout: 30_000 });

    // A server that lost its signaling database no longer knows the room: the rejoin is refused.
    await ferry.restart({ forget: ['signaling.db', 'signaling.db-wal', 'signaling.db-shm'] });
    for (const side of [from, to]) {
      await expect(side.pairing.getByRole('status')).toContainText('has ended: the server no longer knows it', {
        timeout: 60_000,
      });
    }
    await expect(from.section.getByRole('listitem')).toHaveCount(0);
  });
});
