/**
 * Browser to browser on one network: two people open Ferry, see each other's tile, compare
 * the verification code, and the files go over a WebRTC data channel (never the server):
 * a 20 MiB file arrives byte for byte; a declined offer is reported to the sender; a short
 * text arrives as text.
 */
import { expect, test } from './fixtures.ts';
import { NearbyPage } from './pages/nearby-page.ts';
import { downloadHash, sizePattern } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { PeerWatcher } from './support/peer-cut.ts';

test.describe('nearby devices', () => {
  test.describe.configure({ timeout: 180_000 });

  test('a 20 MiB file goes to a nearby device after the codes match', async ({ sender, receiver, files }) => {
    const big = await files.file('p2p/holiday.mov', 20 * MiB);
    const watch = await PeerWatcher.on(sender.page);
    const from = new NearbyPage(sender.page);
    const to = new NearbyPage(receiver.page);
    const senderName = await from.open();
    const receiverName = await to.open();
    await expect(from.tile(receiverName)).toBeVisible();
    await expect(to.tile(senderName)).toBeVisible();

    await from.sendFiles(receiverName, big.path);
    // Both screens show the same code before anything secret leaves the sender.
    await expect(from.code(receiverName)).toHaveText(/^\d{6}$/, { timeout: 30_000 });
    const code = await from.code(receiverName).textContent();
    await expect(to.code(senderName)).toHaveText(code ?? '');
    await from.confirmCode();

    const offer = to.offer(senderName);
    await expect(offer).toBeVisible();
    await expect(to.offerCode(senderName)).toHaveText(code ?? '');
    await expect(offer.getByText('holiday.mov')).toBeVisible();
    await expect(offer).toContainText(sizePattern(big.size));

    const [download] = await Promise.all([
      receiver.page.waitForEvent('download', { timeout: 120_000 }),
      offer.getByRole('button', { name: 'Accept' }).click(),
    ]);
    expect(await downloadHash(download)).toBe(big.sha256);
    await expect(offer.getByText('Received and verified.')).toBeVisible();
    await expect(sender.page.getByText(`Sent to ${receiverName}.`)).toBeVisible();
    // A current device says it reads version 2 frames: several records go in each.
    expect(new Set((await watch.sent()).map((frame) => frame.version))).toEqual(new Set([2]));
  });

  test('a device whose Ferry predates version 2 frames gets one record per version 1 frame', async ({
    sender,
    receiver,
    files,
  }) => {
    const doc = await files.file('p2p/older-device.bin', 6 * MiB);
    // The recipient's hello says nothing of the frames it reads, as a page from before
    // version 2 frames does (it would refuse a version 2 frame).
    await receiver.page.routeWebSocket(/\/signal/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        const parsed = typeof message === 'string' ? (JSON.parse(message) as { type?: string }) : null;
        if (parsed?.type === 'hello') server.send(JSON.stringify({ ...parsed, frames: undefined }));
        else server.send(message);
      });
    });
    const watch = await PeerWatcher.on(sender.page);
    const from = new NearbyPage(sender.page);
    const to = new NearbyPage(receiver.page);
    const senderName = await from.open();
    const receiverName = await to.open();
    await from.sendFiles(receiverName, doc.path);
    await from.confirmCode();
    const offer = to.offer(senderName);
    const [download] = await Promise.all([
      receiver.page.waitForEvent('download', { timeout: 120_000 }),
      offer.getByRole('button', { name: 'Accept' }).click(),
    ]);
    expect(await downloadHash(download)).toBe(doc.sha256);
    const sent = await watch.sent();
    expect(sent).toHaveLength(96);
    expect(new Set(sent.map((frame) => frame.version))).toEqual(new Set([1]));
  });

  test('a declined offer is reported to the sender', async ({ sender, receiver, files }) => {
    const small = await files.file('p2p/notes.txt', 3000);
    const from = new NearbyPage(sender.page);
    const to = new NearbyPage(receiver.page);
    await from.open();
    const receiverName = await to.open();
    const senderName = (await from.section.getByText('This device appears as').locator('strong').textContent()) ?? '';

    await from.sendFiles(receiverName, small.path);
    await from.confirmCode();
    const offer = to.offer(senderName);
    await expect(offer.getByText('notes.txt')).toBeVisible();
    await offer.getByRole('button', { name: 'Decline' }).click();
    await expect(sender.page.getByRole('alert')).toHaveText(`${receiverName} declined.`);
  });

  test('a short text arrives as text', async ({ sender, receiver }) => {
    const from = new NearbyPage(sender.page);
    const to = new NearbyPage(receiver.page);
    const senderName = await from.open();
    const receiverName = await to.open();
    const text = 'Door code is <b>4711</b> & the wifi is "ferry"';

    await from.sendText(receiverName, text);
    await expect(from.code(receiverName)).toHaveText(/^\d{6}$/, { timeout: 30_000 });
    await from.confirmCode();
    const message = receiver.page.getByRole('region', { name: `Text from ${senderName}` });
    await expect(message.getByText(text, { exact: true })).toBeVisible();
    await expect(message.getByRole('button', { name: 'Copy' })).toBeVisible();
  });
});
