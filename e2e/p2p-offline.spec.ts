/**
 * Sending to a paired device when no direct connection can be made: after pairing, both
 * browsers refuse every new RTCPeerConnection (as on a network that allows no WebRTC).
 * The send to the paired device then goes through Ferry's server from the first record:
 * the offer crosses the signaling server sealed under the pairing secret, the recipient
 * reads the manifest from the relay share, accepts, and gets the very bytes.
 */
import { expect, test } from './fixtures.ts';
import { PairingPage } from './pages/pairing-page.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { onNetwork, pair } from './support/pairing.ts';
import { PeerWatcher } from './support/peer-cut.ts';

test.use({ ferryEnv: { FERRY_TRUSTED_PROXIES: '127.0.0.1,::1' } });

test.describe('paired device with no direct connection', () => {
  test.describe.configure({ timeout: 240_000 });

  test('a 5 MiB file goes through the server, sealed for the paired device, and arrives intact', async ({
    sender,
    receiver,
    senderContext,
    receiverContext,
    files,
  }) => {
    await onNetwork(senderContext, '203.0.113.10');
    await onNetwork(receiverContext, '198.51.100.20');
    const doc = await files.file('offline/archive.zip', 5 * MiB);
    const senderWatch = await PeerWatcher.on(sender.page);
    const receiverWatch = await PeerWatcher.on(receiver.page);
    const from = new PairingPage(sender.page);
    const to = new PairingPage(receiver.page);
    const senderName = await from.open();
    const receiverName = await to.open();
    await pair(from, to);
    await expect(from.tileItem(receiverName)).toContainText('Paired');
    await senderWatch.refuseNewConnections();
    await receiverWatch.refuseNewConnections();
    // The pairing's own connection drops, so the send needs a new one, which cannot be made.
    await senderWatch.cut(0);
    await receiverWatch.cut(0);
    await expect(from.code(receiverName)).toHaveCount(0, { timeout: 30_000 });

    await from.sendFiles(receiverName, doc.path);
    const offer = to.offer(senderName);
    await expect(offer.getByText('archive.zip')).toBeVisible({ timeout: 60_000 });
    await expect(
      offer.getByText('Sent through the server because a direct connection was not possible.'),
    ).toBeVisible();
    const download = receiver.page.waitForEvent('download', { timeout: 150_000 });
    await offer.getByRole('button', { name: 'Accept' }).click();
    expect(await downloadHash(await download)).toBe(doc.sha256);
    await expect(offer.getByText('Received and verified.')).toBeVisible();
    await expect(
      sender.page.getByText(`Sent to ${receiverName} through the server, end-to-end encrypted.`),
    ).toBeVisible();
  });
});
