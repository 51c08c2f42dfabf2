/**
 * Sending to a paired device when no direct connection can be made: after pairing, both
 * browsers refuse every new RTCPeerConnection (as on a network that allows no WebRTC).
 * The send to the paired device then goes through Ferry's server from the first record:
 * the offer crosses the signaling server sealed under the pairing secret, the recipient
 * reads the manifest from the relay share, accepts, and gets the very bytes.
 */
import { expect, type FerryFixtures, test } from './fixtures.ts';
import { PairingPage } from './pages/pairing-page.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { onNetwork, pair } from './support/pairing.ts';
import { PeerWatcher } from './support/peer-cut.ts';

test.use({ ferryEnv: { FERRY_TRUSTED_PROXIES: '127.0.0.1,::1' } });

/** Two paired devices on different networks, whose browsers then make no RTCPeerConnection. */
async function pairedWithoutWebRtc(
  sender: FerryFixtures['sender'],
  receiver: FerryFixtures['receiver'],
): Promise<{ from: PairingPage; to: PairingPage; senderName: string; receiverName: string }> {
  await onNetwork(sender.page.context(), '203.0.113.10');
  await onNetwork(receiver.page.context(), '198.51.100.20');
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
  return { from, to, senderName, receiverName };
}

test.describe('paired device with no direct connection', () => {
  test.describe.configure({ timeout: 240_000 });

  test('a 5 MiB file goes through the server, sealed for the paired device, and arrives intact', async ({
    sender,
    receiver,
    files,
  }) => {
    const doc = await files.file('offline/archive.zip', 5 * MiB);
    const { from, to, senderName, receiverName } = await pairedWithoutWebRtc(sender, receiver);

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

  test('a declined offer comes back sealed and the sender stops', async ({ sender, receiver, files }) => {
    const doc = await files.file('offline/draft.txt', 2 * MiB);
    const { from, to, senderName, receiverName } = await pairedWithoutWebRtc(sender, receiver);

    await from.sendFiles(receiverName, doc.path);
    const offer = to.offer(senderName);
    await expect(offer.getByText('draft.txt')).toBeVisible({ timeout: 60_000 });
    await offer.getByRole('button', { name: 'Decline' }).click();
    await expect(offer.getByText('Declined.')).toBeVisible();
    await expect(from.tileItem(receiverName).getByRole('alert')).toHaveText(`${receiverName} declined.`);
  });
});
