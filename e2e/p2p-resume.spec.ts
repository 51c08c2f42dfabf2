/**
 * A nearby transfer survives a dropped connection: halfway through a 20 MiB send the
 * sender's RTCPeerConnection — or, in the second journey, the recipient's — is closed (as a
 * network drop would end it). Both screens say
 * "Reconnecting…", the sender connects again by itself (no code to compare: the new link is
 * authenticated with the transfer's own secret) and the transfer continues from the first
 * record the recipient lacked. The file arrives byte for byte and no record reaches the
 * recipient twice; the only records the sender hands to a channel again are those the
 * closed connection never delivered.
 */
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { offerNearby } from './support/nearby-offer.ts';
import { frameKey } from './support/peer-cut.ts';
import { watchText } from './support/seen-text.ts';

test.describe('nearby transfer resume', () => {
  test.describe.configure({ timeout: 240_000 });

  for (const side of ['sender', 'recipient'] as const) {
    test(`the ${side}'s connection drops at half of 20 MiB and the transfer resumes on a new one`, async ({
      sender,
      receiver,
      files,
    }) => {
      const big = await files.file('p2p/resume.mov', 20 * MiB);
      const { sending, receiving, receiverName, offer } = await offerNearby(
        sender.page,
        receiver.page,
        big.path,
        'resume.mov',
      );
      const records = Math.ceil((20 * MiB) / (64 * 1024));
      const reconnecting = 'Connection lost. Reconnecting…';
      const senderSawReconnecting = await watchText(sender.page, reconnecting);
      const receiverSawReconnecting = await watchText(receiver.page, reconnecting);
      await (side === 'sender' ? sending : receiving).cutAfterRecords(records / 2);
      const download = receiver.page.waitForEvent('download', { timeout: 180_000 });
      await offer.getByRole('button', { name: 'Accept' }).click();

      expect(await downloadHash(await download)).toBe(big.sha256);
      // Both screens said so while the connection was down (on loopback that may be brief).
      expect(await senderSawReconnecting()).toBe(true);
      expect(await receiverSawReconnecting()).toBe(true);
      await expect(offer.getByText('Received and verified.')).toBeVisible();
      await expect(offer.getByText('Resumed after the connection dropped.')).toBeVisible();
      await expect(sender.page.getByText(`Sent to ${receiverName}.`)).toBeVisible();
      await expect(sender.page.getByText('Resumed after the connection dropped.')).toBeVisible();
      expect(await sending.connectionCount()).toBeGreaterThanOrEqual(2);
      expect(await receiving.connectionCount()).toBeGreaterThanOrEqual(2);

      const received = await receiving.received();
      const receivedKeys = received.map(frameKey);
      // Every record reached the recipient exactly once, over the two connections together.
      expect(receivedKeys.length).toBe(records);
      expect(new Set(receivedKeys).size).toBe(records);
      const before = received.filter((f) => f.connection === 0);
      const after = received.filter((f) => f.connection > 0);
      expect(before.length).toBeGreaterThan(0);
      expect(after.length).toBeGreaterThan(0);

      const sent = await sending.sent();
      const resent = sent.filter((f) => f.connection > 0);
      // The new connection starts at the first record the recipient lacked, and sends each once.
      expect(resent[0]?.record).toBe(before.length);
      expect(new Set(resent.map(frameKey)).size).toBe(resent.length);
      const deliveredBefore = new Set(before.map(frameKey));
      expect(resent.filter((f) => deliveredBefore.has(frameKey(f)))).toEqual([]);
      // Sent twice at all: only what the closed connection had queued and never delivered.
      const lostInFlight = sent.filter((f) => f.connection === 0 && !deliveredBefore.has(frameKey(f)));
      console.log(
        `records ${records}: before the cut ${before.length} delivered, ${lostInFlight.length} lost in the closed connection's queue; after ${after.length}`,
      );
    });
  }
});
