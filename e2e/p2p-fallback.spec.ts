/**
 * A nearby transfer whose peer does not come back continues through Ferry's server: halfway
 * through a 20 MiB send the sender's connection is closed and no new RTCPeerConnection can
 * be made (as on a network that stopped allowing them). After the reconnect window the
 * sender uploads the rest with tus to the relay share derived from the transfer's secret,
 * from the first record the recipient had not acknowledged; the recipient, which looked for
 * that share meanwhile, reads it as it grows into the same verifying writer. Both screens
 * say the transfer switched to the relay, the bytes are identical, and the server stored
 * only the records that were still missing. Once the recipient has read it, the sender
 * revokes the relay share instead of leaving it to expire. The answer to the sender's first
 * request to create the relay share is lost (the server made the share, the connection
 * dropped): it asks again with the same body and gets the same share.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from './fixtures.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { offerNearby } from './support/nearby-offer.ts';
import { watchText } from './support/seen-text.ts';

const RECORD = 64 * 1024;
/** A record's ciphertext: the plaintext and its 16-byte GCM tag. */
const SEALED_RECORD = RECORD + 16;

test.describe('nearby transfer fallback to the relay', () => {
  test.describe.configure({ timeout: 240_000 });
  // No sweep during the test: the revoked relay share's upload stays on disk to be measured.
  test.use({ ferryEnv: { FERRY_SWEEP_INTERVAL_MS: String(60 * 60_000) } });

  test('the peer does not come back, so the rest goes through the server', async ({
    ferry,
    sender,
    receiver,
    files,
  }) => {
    const big = await files.file('p2p/fallback.mov', 20 * MiB);
    const records = (20 * MiB) / RECORD;
    const { sending, receiving, receiverName, offer } = await offerNearby(
      sender.page,
      receiver.page,
      big.path,
      'fallback.mov',
    );
    const continuing = 'Continuing through the server…';
    const senderSawRelay = await watchText(sender.page, continuing);
    const receiverSawRelay = await watchText(receiver.page, continuing);
    // The server answers the first create (201), but the answer never reaches the page.
    const createAnswers: number[] = [];
    await sender.page.route('**/api/shares', async (route) => {
      const response = await route.fetch();
      createAnswers.push(response.status());
      if (createAnswers.length === 1) await route.abort('connectionreset');
      else await route.fulfill({ response });
    });
    // The sender revokes the relay share once its download counts, and a revoke removes the
    // upload at once: hold that DELETE until the upload has been measured below.
    let measured: () => void = () => {};
    const measuredUpload = new Promise<void>((resolve) => {
      measured = resolve;
    });
    await sender.page.route('**/api/shares/*', async (route) => {
      if (route.request().method() === 'DELETE') await measuredUpload;
      await route.continue();
    });
    await sending.refuseNewConnections();
    await receiving.refuseNewConnections();
    // Cut past half the file, and only once an acknowledgement came back: on a loaded machine
    // the sender could send 10 MiB (its window is 16) before the first ack (every 2 MiB
    // verified) arrived, and the relay then rightly starts from record 0 (CI, passed on retry).
    await sending.cutAfterRecords(records / 2, { afterAck: true });
    const download = receiver.page.waitForEvent('download', { timeout: 200_000 });
    await offer.getByRole('button', { name: 'Accept' }).click();

    expect(await downloadHash(await download)).toBe(big.sha256);
    await expect(offer.getByText('Received and verified.')).toBeVisible();
    await expect(offer.getByText(/The transfer switched to the relay/)).toBeVisible();
    await expect(
      sender.page.getByText(`Sent to ${receiverName} through the server: the transfer switched to the relay`),
    ).toBeVisible();
    expect(await senderSawRelay()).toBe(true);
    expect(await receiverSawRelay()).toBe(true);
    expect(await sending.connectionCount()).toBe(1);
    expect(createAnswers).toEqual([201, 200]);

    // The server holds one upload: the file's ciphertext from a record boundary on, no more.
    const dir = join(ferry.dataDir, 'files');
    const infos = (await readdir(dir)).filter((name) => name.endsWith('.json'));
    expect(infos).toHaveLength(1);
    const info = JSON.parse(await readFile(join(dir, infos[0]!), 'utf8')) as {
      id: string;
      size: number;
      metadata: Record<string, string>;
    };
    const base = Number(info.metadata.base);
    const whole = records * SEALED_RECORD;
    const delivered = (await receiving.received()).length;
    expect(base % SEALED_RECORD).toBe(0);
    expect(base).toBeGreaterThan(0);
    // From the last acknowledgement (every 2 MiB): at most what the channel delivered.
    expect(base / SEALED_RECORD).toBeLessThanOrEqual(delivered);
    expect(info.size).toBe(whole - base);
    expect((await stat(join(dir, info.id))).size).toBe(whole - base);
    measured();
    // The recipient read the relay share from the upload's start, so its ticket completed and
    // the server counted the download; the sender, watching that count, revoked the share.
    const relayShare = `/api/shares/${info.metadata.share}`;
    await expect.poll(async () => (await sender.page.request.get(relayShare)).status(), { timeout: 30_000 }).toBe(410);
    expect(await (await sender.page.request.get(relayShare)).json()).toMatchObject({
      error: { code: 'SHARE_REVOKED' },
    });
    console.log(
      `records ${records}: ${delivered} over the channel, relay stored ${(whole - base) / SEALED_RECORD} from record ${base / SEALED_RECORD}`,
    );
  });
});
