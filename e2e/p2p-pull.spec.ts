/**
 * A share link whose sender keeps the tab open: the recipient gets the records straight
 * from the sender's browser over WebRTC (MAC-keyed by the link secret), and from the
 * server when the sender's tab goes away mid-file, with the same bytes either way.
 */
import type { BrowserContext, Request } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import type { ReceivePage } from './pages/receive-page.ts';
import type { SendOptions, SendPage } from './pages/send-page.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB, type TestFile } from './support/files.ts';

const SENDER_SERVES = 'While this tab stays open, recipients get the files directly from it.';
const DIRECT = /The sender’s browser is open: files come directly from it/;

/** The ciphertext GETs (not the ticket's HEAD checks) the recipient makes, with their Range. */
function ciphertextRequests(context: BrowserContext): { method: string; range: string | null }[] {
  const seen: { method: string; range: string | null }[] = [];
  context.on('request', (request: Request) => {
    if (!/\/api\/shares\/[A-Za-z0-9_-]{16}\/files\/\d+$/.test(new URL(request.url()).pathname)) return;
    if (request.method() === 'GET') seen.push({ method: 'GET', range: request.headers().range ?? null });
  });
  return seen;
}

/** The sender sends `file` and keeps its tab open; the recipient opens the link and is told the files come directly. */
async function shareDirectly(
  sender: SendPage,
  receiver: ReceivePage,
  file: TestFile,
  options: SendOptions = {},
): Promise<string> {
  await sender.open();
  const link = await sender.sendFiles(file.path, options);
  await expect(sender.page.getByText(SENDER_SERVES)).toBeVisible();
  if (options.password) {
    await receiver.open(link);
    await receiver.unlock(options.password);
    await expect(receiver.files).toBeVisible({ timeout: 30_000 });
  } else await receiver.openShare(link);
  await expect(receiver.page.getByText(DIRECT)).toBeVisible({ timeout: 30_000 });
  return link;
}

test('the records come directly from the sender’s open tab, identical, with no ciphertext from the server', async ({
  sender,
  receiver,
  receiverContext,
  files,
}) => {
  const file = await files.file('harbour-survey-p2p-4kq.bin', 12 * MiB + 777);
  const fromServer = ciphertextRequests(receiverContext);
  await shareDirectly(sender, receiver, file);
  const started = Date.now();
  const download = await receiver.download(file.name);
  expect(await downloadHash(download)).toBe(file.sha256);
  const seconds = (Date.now() - started) / 1000;
  test.info().annotations.push({ type: 'pull', description: `${(file.size / MiB / seconds).toFixed(1)} MiB/s` });
  console.log(`pulled ${file.size} bytes directly in ${seconds.toFixed(1)} s`);
  await expect(receiver.verified(file.name)).toBeVisible();
  await expect(receiver.file(file.name)).toContainText('Directly from the sender');
  expect(fromServer, 'ciphertext requests to the server').toEqual([]);
  // The recipient's page is no device to send to: the sender's tab, on the same network, shows no tile for it.
  const nearby = sender.page.getByRole('region', { name: 'Nearby devices' });
  await expect(nearby.getByText('Open Ferry on another device on this network')).toBeVisible();
  await expect(nearby.getByRole('listitem')).toHaveCount(0);
});

test('when the sender’s tab closes mid-file, the recipient finishes from the server, identical', async ({
  sender,
  receiver,
  receiverContext,
  files,
}) => {
  const file = await files.file('lighthouse-log-p2p-9zd.bin', 64 * MiB + 12_345);
  const fromServer = ciphertextRequests(receiverContext);
  await shareDirectly(sender, receiver, file);
  const downloading = receiver.download(file.name, 180_000);
  await expect(receiver.file(file.name)).toContainText('Directly from the sender');
  await receiver.waitForPercent(file.name, 3);
  await sender.page.close();

  expect(await downloadHash(await downloading)).toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
  await expect(receiver.file(file.name)).toContainText('From the server');
  // The server sent only the rest: the first request starts at a record past the beginning.
  expect(fromServer.length).toBeGreaterThan(0);
  const start = Number(/^bytes=(\d+)-$/.exec(fromServer[0]?.range ?? '')?.[1] ?? 0);
  expect(start, 'the first byte asked of the server').toBeGreaterThan(0);
  expect(start % (64 * 1024 + 16), 'a record boundary').toBe(0);
});

test('a password link with a download limit of 1 is pulled directly and counts like a server download', async ({
  sender,
  receiver,
  receiverContext,
  files,
}) => {
  const file = await files.file('tide-table-p2p-limit-3hc.bin', 3 * MiB + 5);
  const fromServer = ciphertextRequests(receiverContext);

  const link = await shareDirectly(sender, receiver, file, { downloadLimit: 1, password: 'gull-harbour-42' });
  expect(await downloadHash(await receiver.download(file.name))).toBe(file.sha256);
  await expect(receiver.file(file.name)).toContainText('Directly from the sender');
  expect(fromServer, 'ciphertext requests to the server').toEqual([]);

  // The sender's tab reported what it sent against the visit's ticket: the one download is used.
  await expect
    .poll(
      async () => {
        const later = await receiverContext.newPage();
        await later.goto(link);
        const reached = later.getByRole('heading', { name: 'Download limit reached' });
        const shown = await reached.isVisible({ timeout: 5_000 }).catch(() => false);
        await later.close();
        return shown;
      },
      { timeout: 30_000, message: 'a new visit is refused' },
    )
    .toBe(true);
});
