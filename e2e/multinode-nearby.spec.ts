/**
 * Nearby devices across two nodes: two people on one network whose pages are served by
 * different Ferry nodes (behind deploy/haproxy.cfg, sharing Postgres and Redis) see each
 * other's tile, compare codes and send a file over WebRTC, byte for byte. Their signaling
 * meets through Redis; the file never touches either node.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Cluster, startCluster } from '../server/multinode/cluster.ts';
import { startPostgres } from '../server/test-engines/postgres.ts';
import { startRedis } from '../server/test-engines/redis.ts';
import { test as base, expect, withoutSavePicker } from './fixtures.ts';
import { NearbyPage } from './pages/nearby-page.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';

const DIST = fileURLToPath(new URL('../dist', import.meta.url));

const test = base.extend<object, { cluster: Cluster }>({
  cluster: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright reads fixture dependencies from the pattern
    async ({}, use) => {
      const postgres = await startPostgres();
      const redis = await startRedis();
      try {
        const cluster = await startCluster({ databaseUrl: postgres.url, redisUrl: redis.url, distDir: DIST });
        await use(cluster);
        await cluster.stop();
      } finally {
        redis.stop();
        postgres.stop();
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  baseURL: async ({ cluster }, use) => {
    await use(cluster.url);
  },
  // The sender's page comes from node 1, the recipient's from node 2.
  senderContext: async ({ browser, cluster }, use) => {
    const context = await browser.newContext({ baseURL: cluster.nodes[0]!.url, acceptDownloads: true });
    await use(context);
    await context.close();
  },
  receiverContext: async ({ browser, cluster }, use) => {
    const context = await browser.newContext({ baseURL: cluster.nodes[1]!.url, acceptDownloads: true });
    await context.addInitScript(withoutSavePicker);
    await use(context);
    await context.close();
  },
});

test.describe('nearby devices on two nodes', () => {
  test.describe.configure({ timeout: 180_000 });

  test('a page on each node sees the other as nearby and sends it a file directly', async ({
    sender,
    receiver,
    files,
    cluster,
  }) => {
    const doc = await files.file('p2p/across-nodes.bin', 8 * MiB);
    const from = new NearbyPage(sender.page);
    const to = new NearbyPage(receiver.page);
    const senderName = await from.open();
    const receiverName = await to.open();
    await expect(from.tile(receiverName)).toBeVisible();
    await expect(to.tile(senderName)).toBeVisible();

    await from.sendFiles(receiverName, doc.path);
    await expect(from.code(receiverName)).toHaveText(/^\d{6}$/, { timeout: 30_000 });
    const code = await from.code(receiverName).textContent();
    await expect(to.code(senderName)).toHaveText(code ?? '');
    await from.confirmCode();
    const offer = to.offer(senderName);
    await expect(offer.getByText(path.basename(doc.path))).toBeVisible();
    const [download] = await Promise.all([
      receiver.page.waitForEvent('download', { timeout: 120_000 }),
      offer.getByRole('button', { name: 'Accept' }).click(),
    ]);
    expect(await downloadHash(download)).toBe(doc.sha256);
    await expect(offer.getByText('Received and verified.')).toBeVisible();
    // Directly: neither node was asked to store or serve a byte.
    for (const node of cluster.nodes) {
      const transfers = node.logs().filter((entry) => /^\/files|\/api\/shares\/:id\/files/.test(String(entry.route)));
      expect(transfers, `${node.name} carried no file`).toEqual([]);
    }
  });
});
