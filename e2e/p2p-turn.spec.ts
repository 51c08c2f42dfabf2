/**
 * Browser to browser through TURN: coturn runs on loopback (started here, stopped afterwards
 * even when the test fails) and the server tells browsers `iceTransportPolicy: 'relay'`, so
 * the only candidates are relayed ones. A 6 MiB file arrives byte for byte and both ends say
 * the connection was relayed.
 */
import { expect, test as ferryTest } from './fixtures.ts';
import { NearbyPage } from './pages/nearby-page.ts';
import { type Coturn, useCoturn } from './support/coturn.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';

const test = ferryTest.extend<{ coturn: Coturn }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads fixture dependencies from the pattern
  coturn: ({}, use, testInfo) => useCoturn(use, testInfo),
  ferryEnv: async ({ coturn }, use) => {
    await use(coturn.ferryEnv);
  },
});

test.describe('nearby devices through TURN', () => {
  test.describe.configure({ timeout: 180_000 });

  test('with iceTransportPolicy relay a file goes through coturn and both ends say relayed', async ({
    ferry,
    coturn,
    sender,
    receiver,
    files,
  }) => {
    const answer = await sender.page.request.get(`${ferry.url}/api/ice`);
    const ice = (await answer.json()) as { iceTransportPolicy: string; iceServers: Array<{ urls: string[] }> };
    expect(ice.iceTransportPolicy).toBe('relay');
    expect(ice.iceServers.flatMap((s) => s.urls)).toEqual([`turn:127.0.0.1:${coturn.port}?transport=udp`]);

    const big = await files.file('p2p/relayed.bin', 6 * MiB);
    const from = new NearbyPage(sender.page);
    const to = new NearbyPage(receiver.page);
    const senderName = await from.open();
    const receiverName = await to.open();
    await expect(from.tile(receiverName)).toBeVisible();

    await from.sendFiles(receiverName, big.path);
    await expect(from.code(receiverName)).toHaveText(/^\d{6}$/, { timeout: 30_000 });
    await expect(to.code(senderName)).toHaveText((await from.code(receiverName).textContent()) ?? '');
    await from.confirmCode();

    const offer = to.offer(senderName);
    await expect(offer.getByText('relayed.bin')).toBeVisible();
    const [download] = await Promise.all([
      receiver.page.waitForEvent('download', { timeout: 120_000 }),
      offer.getByRole('button', { name: 'Accept' }).click(),
    ]);
    expect(await downloadHash(download)).toBe(big.sha256);
    await expect(offer.getByText('Received and verified.')).toBeVisible();
    await expect(offer.getByText('Connection: relayed (TURN)')).toBeVisible();

    const tile = sender.page.getByRole('listitem').filter({ has: from.tile(receiverName) });
    await expect(tile.getByText(`Sent to ${receiverName}.`)).toBeVisible();
    await expect(tile.getByText('Connection: relayed (TURN)')).toBeVisible();

    // coturn itself granted the relays, to users with credentials Ferry signed ("<expiry>:<id>").
    expect(await coturn.log()).toMatch(/user <\d+:[\w-]+>: incoming packet ALLOCATE processed, success/);
  });
});
