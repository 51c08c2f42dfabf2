/**
 * The history: files received from a link are listed as Verified or Failed (with why) after
 * a reload and offline, and can be cleared; a file from a nearby device is listed with the
 * device's name; a sent share's QR code reads back as its link;
 * and a `ferry` database written by version 1 of the app is upgraded without losing a share
 * or a dedup entry.
 */
import { expect, test } from './fixtures.ts';
import { HistoryPage } from './pages/history-page.ts';
import { NearbyPage } from './pages/nearby-page.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { waitForServiceWorker } from './support/pwa.ts';
import { readQrCode } from './support/qr.ts';
import { encryptedSize, flipStoredByte } from './support/tamper.ts';

test('received files are listed as Verified or Failed after a reload and offline, then cleared', async ({
  sender,
  receiver,
  receiverContext,
  files,
  ferry,
}) => {
  test.setTimeout(180_000);
  const intact = await files.file('history-minutes.bin', 300_000);
  const tampered = await files.file('history-ledger.bin', 1 * MiB + 3);
  await sender.open();
  const link = await sender.sendFiles([intact.path, tampered.path]);
  await flipStoredByte(ferry.dataDir, encryptedSize(tampered.size));
  // An open sender's tab would serve the files directly, intact: the server's copy is the one tested.
  await sender.page.close();

  await receiver.openShare(link);
  await receiver.download(intact.name);
  await expect(receiver.verified(intact.name)).toBeVisible();
  await receiver.downloadButton(tampered.name).click();
  await expect(receiver.alert.filter({ hasText: `${tampered.name} failed verification` })).toBeVisible({
    timeout: 60_000,
  });

  const history = new HistoryPage(receiver.page);
  await history.waitForReceived(2);
  await receiver.page.goto('/');
  await waitForServiceWorker(receiver.page);
  await receiver.page.reload();
  const shareId = new URL(link).pathname.split('/').at(-1) ?? '';
  const good = history.receivedFile(intact.name);
  const bad = history.receivedFile(tampered.name);
  await expect(good.getByText('Verified', { exact: true })).toBeVisible();
  await expect(good).toContainText(`/s/${shareId}`);
  await expect(bad.getByText('Failed', { exact: true })).toBeVisible();
  await expect(bad).toContainText(`${tampered.name} failed verification`);
  await expect(bad.getByText('Verified', { exact: true })).toHaveCount(0);
  // Nothing that opens the share is kept: the key never appears.
  await expect(history.received).not.toContainText(new URL(link).hash.slice(1));

  // Offline, the service worker opens the app and the list still shows.
  await receiverContext.setOffline(true);
  await receiver.page.reload();
  await expect(receiver.page.getByRole('status').filter({ hasText: 'You are offline' })).toBeVisible();
  await expect(good.getByText('Verified', { exact: true })).toBeVisible();
  await expect(bad.getByText('Failed', { exact: true })).toBeVisible();
  await receiverContext.setOffline(false);

  await history.clearReceived.click();
  await expect(history.received).toHaveCount(0);
  await expect(receiver.page.getByText('Received history cleared.')).toBeFocused();
  await receiver.page.reload();
  await expect(receiver.page.getByRole('heading', { name: 'Send files' })).toBeVisible();
  await expect(history.receivedFiles).toHaveCount(0);
});

test('a file from a nearby device is listed as Verified with the device name, at once and after a reload', async ({
  sender,
  receiver,
  files,
}) => {
  test.setTimeout(180_000);
  const file = await files.file('history-nearby-sketch.png', 200_000);
  const from = new NearbyPage(sender.page);
  const to = new NearbyPage(receiver.page);
  const senderName = await from.open();
  const receiverName = await to.open();
  await from.sendFiles(receiverName, file.path);
  await expect(from.code(receiverName)).toHaveText(/^\d{6}$/, { timeout: 30_000 });
  await from.confirmCode();
  const offer = to.offer(senderName);
  const [download] = await Promise.all([
    receiver.page.waitForEvent('download', { timeout: 120_000 }),
    offer.getByRole('button', { name: 'Accept' }).click(),
  ]);
  expect(await downloadHash(download)).toBe(file.sha256);

  // The nearby section lives on the history's page: the entry appears without a reload.
  const history = new HistoryPage(receiver.page);
  const entry = history.receivedFile(file.name);
  await expect(entry.getByText('Verified', { exact: true })).toBeVisible();
  await expect(entry).toContainText(`Nearby: ${senderName}`);
  await receiver.page.reload();
  await expect(entry.getByText('Verified', { exact: true })).toBeVisible();
});

test('a sent share shows a QR code that reads back as its link', async ({ sender, files }) => {
  const file = await files.file('history-qr-poster.pdf', 20_000);
  await sender.open();
  const link = await sender.sendFiles(file.path);
  const history = new HistoryPage(sender.page);

  const qr = await history.showQrCode(file.name);
  await expect(qr).toBeVisible();
  expect(await readQrCode(qr)).toBe(link);

  // Dark mode keeps dark modules on a light ground, which every reader decodes.
  await sender.page.emulateMedia({ colorScheme: 'dark' });
  expect(await readQrCode(qr)).toBe(link);

  const card = history.card(file.name);
  await card.getByRole('button', { name: 'Hide QR code' }).click();
  await expect(qr).toHaveCount(0);
  await expect(card.getByRole('button', { name: 'Show QR code' })).toHaveAttribute('aria-expanded', 'false');
});

/** Version 1 of the `ferry` database, exactly as the app created it, with real records. */
const V1 = {
  shares: [
    {
      id: 'AbCdEfGhIjKlMnOp',
      ownerToken: 'o'.repeat(43),
      uploadToken: 'u'.repeat(43),
      secret: 'c2VjcmV0LXNlY3JldC0xMg',
      link: 'http://ferry.test/s/AbCdEfGhIjKlMnOp#c2VjcmV0LXNlY3JldC0xMg',
      createdAt: 1_700_000_000_000,
      expiresAt: 0, // set to tomorrow in the test, so the app keeps it
      maxDownloads: 3,
      hasPassword: false,
      state: 'ready',
      files: [
        {
          name: 'migration-report.pdf',
          size: 4096,
          type: 'application/pdf',
          lastModified: 1_699_999_000_000,
          nonce: 'bm9uY2Vub25jZTEy',
          recordSize: 65536,
          blake3: 'a'.repeat(64),
          checkpoint: { offset: 4096, digest: 'a'.repeat(64) },
          uploadUrl: 'http://ferry.test/files/abc',
          reused: false,
          uploaded: true,
        },
      ],
    },
    {
      id: 'QrStUvWxYz012345',
      ownerToken: '',
      uploadToken: '',
      secret: '',
      link: '',
      createdAt: 1_700_000_100_000,
      expiresAt: 0,
      maxDownloads: null,
      hasPassword: true,
      state: 'revoked',
      // What a revoked share leaves behind: no tokens, secret, link or key.
      files: [
        {
          name: 'migration-old-notes.txt',
          size: 12,
          type: 'text/plain',
          lastModified: 1_699_000_000_000,
          nonce: 'bm9uY2Vub25jZTM0',
          recordSize: 65536,
          blake3: 'c'.repeat(64),
          checkpoint: null,
          uploadUrl: null,
          reused: false,
          uploaded: true,
        },
      ],
    },
  ],
  dedup: [
    {
      blake3: 'a'.repeat(64),
      fingerprint: '4096:1699999000000:migration-report.pdf',
      blobId: 'abc',
      blobToken: 'b'.repeat(43),
      key: 'a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U',
      nonce: 'bm9uY2Vub25jZTEy',
      recordSize: 65536,
      size: 4096,
      expiresAt: 0,
      shareId: 'AbCdEfGhIjKlMnOp',
    },
  ],
};

test('a version 1 database is upgraded to version 2 with every share and dedup entry kept', async ({ sender }) => {
  const { page } = sender;
  const tomorrow = Date.now() + 24 * 3600_000;
  const seeded = {
    shares: V1.shares.map((s) => ({ ...s, expiresAt: tomorrow })),
    dedup: V1.dedup.map((d) => ({ ...d, expiresAt: tomorrow })),
  };
  // A page of the app's origin that does not run the app, so the seed comes first.
  await page.goto('/health');
  await page.evaluate(async (data) => {
    const request = indexedDB.open('ferry', 1);
    request.onupgradeneeded = () => {
      const database = request.result;
      const shares = database.createObjectStore('shares', { keyPath: 'id' });
      shares.createIndex('state', 'state');
      const dedup = database.createObjectStore('dedup', { keyPath: 'blake3' });
      dedup.createIndex('fingerprint', 'fingerprint');
      dedup.createIndex('shareId', 'shareId');
      for (const share of data.shares) shares.put(share);
      for (const entry of data.dedup) dedup.put(entry);
    };
    const database = await new Promise<IDBDatabase>((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    database.close();
  }, seeded);

  await sender.open();
  const history = new HistoryPage(page);
  await expect(history.card('migration-report.pdf').getByLabel('Share link')).toHaveValue(seeded.shares[0]!.link);
  await expect(history.card('migration-old-notes.txt')).toContainText('Revoked');

  const stored = await page.evaluate(async () => {
    const request = indexedDB.open('ferry');
    const database = await new Promise<IDBDatabase>((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const all = (store: string) =>
      new Promise<unknown[]>((resolve, reject) => {
        const read = database.transaction(store).objectStore(store).getAll();
        read.onsuccess = () => resolve(read.result);
        read.onerror = () => reject(read.error);
      });
    const indexes = (store: string) => [...database.transaction(store).objectStore(store).indexNames].sort();
    const result = {
      version: database.version,
      stores: [...database.objectStoreNames].sort(),
      indexes: { shares: indexes('shares'), dedup: indexes('dedup'), received: indexes('received') },
      shares: await all('shares'),
      dedup: await all('dedup'),
      received: await all('received'),
    };
    database.close();
    return result;
  });
  expect(stored.version).toBe(2);
  expect(stored.stores).toEqual(['dedup', 'received', 'shares']);
  expect(stored.indexes).toEqual({ shares: ['state'], dedup: ['fingerprint', 'shareId'], received: ['at'] });
  expect(stored.shares).toEqual(seeded.shares);
  expect(stored.dedup).toEqual(seeded.dedup);
  expect(stored.received).toEqual([]);
});
