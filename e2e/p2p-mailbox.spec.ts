/**
 * Sending to a paired device that is not online at all: its Ferry tab is closed. Its tile
 * stays, marked offline; the files go through Ferry's server and the sealed offer waits in
 * the pair room's mailbox. When the device opens Ferry again (a new page in the same
 * browser context, so the pairing is still in IndexedDB) it finds the offer; its answer
 * comes back sealed to the sender's tile.
 */
import type { Page } from '@playwright/test';
import { expect, type FerryFixtures, test } from './fixtures.ts';
import { PairingPage } from './pages/pairing-page.ts';
import { expireShare } from './support/clock.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { onNetwork, pair } from './support/pairing.ts';

test.use({ ferryEnv: { FERRY_TRUSTED_PROXIES: '127.0.0.1,::1' } });

/** The name a pairing remembers for the other device, from "Paired with <name>. …". */
async function pairedName(side: PairingPage): Promise<string> {
  const notice = (await side.pairing.getByRole('status').textContent()) ?? '';
  const name = /Paired with (.+?)\. /.exec(notice)?.[1];
  if (!name) throw new Error(`no pairing notice: ${notice}`);
  return name;
}

/**
 * Two devices on different networks, paired; then the receiver closes its Ferry tab and
 * the sender's tile for it says it is offline. Answers each side's name for the other.
 */
async function pairedThenReceiverGone(
  sender: FerryFixtures['sender'],
  receiver: FerryFixtures['receiver'],
): Promise<{ from: PairingPage; senderName: string; receiverName: string }> {
  await onNetwork(sender.page.context(), '203.0.113.10');
  await onNetwork(receiver.page.context(), '198.51.100.20');
  const from = new PairingPage(sender.page);
  const to = new PairingPage(receiver.page);
  await from.open();
  await to.open();
  await pair(from, to);
  const receiverName = await pairedName(from);
  const senderName = await pairedName(to);
  await receiver.page.close();
  const tile = from.tileItem(receiverName);
  await expect(tile).toContainText('Paired · offline', { timeout: 30_000 });
  await expect(tile).toContainText('Files you send wait on the server, end-to-end encrypted, for up to 1 day');
  await expect(tile).toContainText('Texts go only to a device that is online');
  await expect(from.section.getByRole('button', { name: `Send to ${receiverName}`, exact: true })).toHaveCount(1);
  return { from, senderName, receiverName };
}

/** Sends `path` to the offline device; answers once the upload finished and the offer waits for it. */
async function sendToOffline(from: PairingPage, receiverName: string, path: string): Promise<void> {
  // Straight to the server: no connection to an offline device is waited for.
  await from.sendFiles(receiverName, path);
  const tile = from.tileItem(receiverName);
  await expect(tile.getByText(`Sent to ${receiverName} through the server, end-to-end encrypted.`)).toBeVisible({
    timeout: 60_000,
  });
  await expect(tile.getByText(`Waiting for ${receiverName} to accept.`)).toBeVisible();
}

/** The relay share id of the one offer the sender's browser keeps waiting (IndexedDB `ferry-p2p`, store `sent`). */
async function waitingShareId(page: Page): Promise<string> {
  return await page.evaluate(
    () =>
      new Promise<string>((resolve, reject) => {
        const request = indexedDB.open('ferry-p2p');
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const all = request.result.transaction('sent').objectStore('sent').getAll();
          all.onerror = () => reject(all.error);
          all.onsuccess = () => {
            const offers = all.result as { shareId: string }[];
            if (offers.length === 1 && offers[0]) resolve(offers[0].shareId);
            else reject(new Error(`expected one waiting offer, found ${offers.length}`));
          };
        };
      }),
  );
}

/** The receiver opens Ferry again in the same browser (its pairing kept) and sees the offer. */
async function reopen(receiver: FerryFixtures['receiver']): Promise<{ page: Page; to: PairingPage }> {
  const page = await receiver.page.context().newPage();
  const to = new PairingPage(page);
  await to.open();
  return { page, to };
}

test.describe('paired device that is offline', () => {
  test.describe.configure({ timeout: 240_000 });

  test('files wait in its mailbox and arrive intact once it opens Ferry and accepts', async ({
    sender,
    receiver,
    files,
  }) => {
    const doc = await files.file('mailbox/holiday.mov', 3 * MiB);
    const { from, senderName, receiverName } = await pairedThenReceiverGone(sender, receiver);

    await sendToOffline(from, receiverName, doc.path);

    const { page, to } = await reopen(receiver);
    const offer = to.offer(senderName);
    await expect(offer.getByText('holiday.mov')).toBeVisible({ timeout: 60_000 });
    await expect(offer.getByText('Sent through the server')).toBeVisible();
    const download = page.waitForEvent('download', { timeout: 150_000 });
    await offer.getByRole('button', { name: 'Accept' }).click();
    expect(await downloadHash(await download)).toBe(doc.sha256);
    await expect(offer.getByText('Received and verified.')).toBeVisible();

    // The sealed answer, then the server's download count, reach the sender's tab.
    await expect(sender.page.getByText('accepted and received the files.')).toBeVisible({ timeout: 60_000 });
    // Back online: one tile for the device, no longer marked offline.
    await expect(from.section.getByText('Paired · offline')).toHaveCount(0);
  });

  test('declining after it opens Ferry again tells the sender', async ({ sender, receiver, files }) => {
    const doc = await files.file('mailbox/minutes.txt', 3 * MiB);
    const { from, senderName, receiverName } = await pairedThenReceiverGone(sender, receiver);

    await sendToOffline(from, receiverName, doc.path);

    const { to } = await reopen(receiver);
    const offer = to.offer(senderName);
    await expect(offer.getByText('minutes.txt')).toBeVisible({ timeout: 60_000 });
    await offer.getByRole('button', { name: 'Decline' }).click();
    await expect(offer.getByText('Declined.')).toBeVisible();
    await expect(sender.page.getByRole('alert').filter({ hasText: / declined\.$/ })).toBeVisible({
      timeout: 30_000,
    });
  });

  test('a sender whose tab was closed hears the answer the next time it opens Ferry', async ({
    sender,
    receiver,
    files,
  }) => {
    const doc = await files.file('mailbox/report.pdf', 3 * MiB);
    const { from, senderName, receiverName } = await pairedThenReceiverGone(sender, receiver);
    await sendToOffline(from, receiverName, doc.path);
    const senderContext = sender.page.context();
    await sender.page.close();

    // Both tabs were closed; the receiver comes back first and accepts.
    const { page, to } = await reopen(receiver);
    const offer = to.offer(senderName);
    await expect(offer.getByText('report.pdf')).toBeVisible({ timeout: 60_000 });
    const download = page.waitForEvent('download', { timeout: 150_000 });
    await offer.getByRole('button', { name: 'Accept' }).click();
    expect(await downloadHash(await download)).toBe(doc.sha256);

    // The sealed answer waited in the mailbox for the sender's next tab.
    const again = new PairingPage(await senderContext.newPage());
    await again.open();
    await expect(
      again.section
        .getByRole('status')
        .filter({ hasText: `${receiverName} accepted report.pdf, sent through the server on` }),
    ).toBeVisible({ timeout: 30_000 });
  });

  test('a withdrawn offer is never offered, and its files are deleted from the server', async ({
    sender,
    receiver,
    files,
  }) => {
    const first = await files.file('mailbox/draft.bin', 2 * MiB);
    const second = await files.file('mailbox/final.bin', MiB);
    const { from, senderName, receiverName } = await pairedThenReceiverGone(sender, receiver);
    await sendToOffline(from, receiverName, first.path);
    const shareId = await waitingShareId(sender.page);

    const tile = from.tileItem(receiverName);
    await tile.getByRole('button', { name: 'Withdraw draft.bin' }).click();
    await expect(
      tile.getByRole('status').filter({ hasText: 'You withdrew draft.bin, sent through the server on' }),
    ).toContainText('the files were deleted from the server.');
    await expect(tile.getByText(`Waiting for ${receiverName} to accept.`)).toHaveCount(0);
    const revoked = await sender.page.request.get(`/api/shares/${shareId}`);
    expect(revoked.status()).toBe(410);
    expect((await revoked.json()).error.code).toBe('SHARE_REVOKED');

    // A second offer after it shows that the device reads its mailbox: only that one arrives.
    await sendToOffline(from, receiverName, second.path);
    const { to } = await reopen(receiver);
    const offer = to.offer(senderName);
    await expect(offer.getByText('final.bin')).toBeVisible({ timeout: 60_000 });
    await expect(offer).toHaveCount(1);
    await expect(to.section.getByText('draft.bin')).toHaveCount(0);
    await expect(to.section.getByRole('alert')).toHaveCount(0);

    // A later tab of the sender says the withdrawal too (on each tile of the pairing: the
    // first tab, in the pair room as well, is one).
    const again = new PairingPage(await sender.page.context().newPage());
    await again.open();
    await expect(
      again.section
        .getByRole('status')
        .filter({ hasText: 'You withdrew draft.bin, sent through the server on' })
        .first(),
    ).toBeVisible({ timeout: 30_000 });
  });

  test('a send cancelled while its relay share is being made leaves no share behind', async ({
    sender,
    receiver,
    files,
  }) => {
    const doc = await files.file('mailbox/cancelled.bin', MiB);
    const { from, receiverName } = await pairedThenReceiverGone(sender, receiver);
    // The server makes the share, but its answer is held until the user has pressed Cancel.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await sender.page.route('**/api/shares', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      const response = await route.fetch();
      await held;
      await route.fulfill({ response });
    });
    const created = sender.page.waitForResponse(
      (response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/api/shares',
    );
    const revoking = sender.page.waitForRequest((request) => request.method() === 'DELETE');

    await from.sendFiles(receiverName, doc.path);
    const tile = from.tileItem(receiverName);
    await tile.getByRole('button', { name: 'Cancel', exact: true }).click();
    release();
    const { id } = (await (await created).json()) as { id: string };
    expect(new URL((await revoking).url()).pathname).toBe(`/api/shares/${id}`);
    await expect.poll(async () => (await sender.page.request.get(`/api/shares/${id}`)).status()).toBe(410);
  });

  test('an offer the device took before the sender withdrew it stays, and its answer still arrives', async ({
    sender,
    receiver,
    files,
  }) => {
    const doc = await files.file('mailbox/notes.txt', MiB);
    const { from, senderName, receiverName } = await pairedThenReceiverGone(sender, receiver);
    await sendToOffline(from, receiverName, doc.path);

    const { to } = await reopen(receiver);
    const offer = to.offer(senderName);
    await expect(offer.getByText('notes.txt')).toBeVisible({ timeout: 60_000 });
    await from.section.getByRole('button', { name: 'Withdraw notes.txt' }).click();
    await expect(
      from.section.getByRole('status').filter({ hasText: 'already has this offer (it opened Ferry meanwhile)' }),
    ).toBeVisible();
    await expect(from.section.getByRole('button', { name: 'Withdraw notes.txt' })).toHaveCount(0);

    await offer.getByRole('button', { name: 'Decline' }).click();
    await expect(sender.page.getByRole('alert').filter({ hasText: / declined\.$/ })).toBeVisible({ timeout: 30_000 });
  });

  test("a tab left open past the offer's life says that it expired", async ({ sender, receiver, files }) => {
    const doc = await files.file('mailbox/slides.pdf', MiB);
    // The sender's page runs on Playwright's clock (in step with real time until moved on).
    await sender.page.clock.install();
    const { from, receiverName } = await pairedThenReceiverGone(sender, receiver);
    await sendToOffline(from, receiverName, doc.path);

    // The computer sleeps through the offer's day: the clock jumps, timers due fire once.
    await sender.page.clock.fastForward(24 * 60 * 60 * 1000 + 60_000);
    await expect(
      from.section
        .getByRole('alert')
        .filter({ hasText: `${receiverName} did not open Ferry in time for slides.pdf, sent through the server on` }),
    ).toBeVisible({ timeout: 30_000 });
    const tile = from.tileItem(receiverName);
    await expect(tile.getByText(`Waiting for ${receiverName} to accept.`)).toHaveCount(0);
    await expect(tile.getByRole('button', { name: 'Withdraw slides.pdf' })).toHaveCount(0);
  });

  test('an offer whose files expired on the server meanwhile is not offered', async ({
    ferry,
    sender,
    receiver,
    files,
  }) => {
    const doc = await files.file('mailbox/late.bin', 3 * MiB);
    const { from, senderName, receiverName } = await pairedThenReceiverGone(sender, receiver);
    await sendToOffline(from, receiverName, doc.path);
    expireShare(ferry.dataDir, await waitingShareId(sender.page));

    const { to } = await reopen(receiver);
    await expect(
      to.section
        .getByRole('alert')
        .filter({ hasText: `Files ${senderName} sent through the server are no longer there` }),
    ).toBeVisible({ timeout: 60_000 });
    await expect(to.offer(senderName)).toHaveCount(0);
  });
});
