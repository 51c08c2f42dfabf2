/**
 * A nearby device that cannot be reached directly: the sender's browser can make no
 * RTCPeerConnection at all (as on a network that allows no WebRTC), and the two devices
 * are not paired, so nothing protects an offer without a data channel. The tile says no
 * direct route was found and offers "Send by link instead", which puts the same files into
 * the ordinary link send; the link then carries them to the other person byte for byte.
 */
import { expect, test } from './fixtures.ts';
import { NearbyPage } from './pages/nearby-page.ts';
import { ReceivePage } from './pages/receive-page.ts';
import { SendPage } from './pages/send-page.ts';
import { downloadHash } from './support/downloads.ts';
import { KiB } from './support/files.ts';
import { PeerWatcher } from './support/peer-cut.ts';

test.describe('nearby device with no direct route', () => {
  test.describe.configure({ timeout: 180_000 });

  test('the files go into the link send instead', async ({ sender, receiver, files }) => {
    const doc = await files.file('p2p/report.pdf', 300 * KiB);
    const watching = await PeerWatcher.on(sender.page);
    const from = new NearbyPage(sender.page);
    await from.open();
    const receiverName = await new NearbyPage(receiver.page).open();
    await expect(from.tile(receiverName)).toBeVisible();
    await watching.refuseNewConnections();

    await from.sendFiles(receiverName, doc.path);
    await expect(from.section.getByText(`No direct route to ${receiverName} was found.`)).toBeVisible({
      timeout: 30_000,
    });
    await from.section.getByRole('button', { name: 'Send by link instead' }).click();

    const send = new SendPage(sender.page);
    await expect(send.dropzone.getByText('report.pdf')).toBeVisible();
    await send.send();
    const link = await send.link();

    const receive = new ReceivePage(receiver.page);
    await receive.open(link);
    expect(await downloadHash(await receive.download('report.pdf'))).toBe(doc.sha256);
  });
});
