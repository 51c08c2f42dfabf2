/**
 * The server dies (SIGKILL) at about 40 % of a large download and comes back on the same
 * port and data directory: the receiver's download carries on from the first record it had
 * not received (a record-aligned `Range: bytes=N-` with the same ticket), what arrives is
 * identical, and the share counts one download, not two.
 */
import { expect, test } from './fixtures.ts';
import { shareIdOf } from './support/clock.ts';
import { downloadHash } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { throttleDownloads, watchFileGets } from './support/network.ts';

/** One ciphertext record: 64 KiB of plaintext and its 16-byte AEAD tag. */
const RECORD = 64 * 1024 + 16;

test('a dropped download resumes with Range', async ({ sender, receiver, receiverContext, files, ferry }) => {
  test.setTimeout(240_000);
  const file = await files.file('field-recordings-resume.bin', 64 * MiB);

  await sender.open();
  const link = await sender.sendFiles(file.path, { downloadLimit: 2 });
  // An open sender's tab would serve the file directly: the server's Range resume is the one tested.
  await sender.page.close();

  await receiver.openShare(link);
  // Slow enough to stop it in the middle; the receive worker's fetch is throttled too.
  await throttleDownloads(receiver.page, 8 * MiB);
  const watched = watchFileGets(receiverContext);
  // 64 MiB goes through the service-worker stream: the download event comes at its start.
  const download = await receiver.download(file.name);

  const at = await receiver.waitForPercent(file.name, 40);
  await ferry.kill('SIGKILL');
  expect(at, 'the server was killed in the middle of the download').toBeLessThan(80);
  const before = watched.gets.length;
  expect(before, 'the download had started with one plain GET').toBeGreaterThan(0);
  await ferry.restart();

  expect(await downloadHash(download), 'the resumed download is byte for byte the file').toBe(file.sha256);
  await expect(receiver.verified(file.name)).toBeVisible();
  watched.stop();

  const [first] = watched.gets;
  expect(first?.range, 'the first GET asked for the whole file').toBe('');
  const resumed = watched.gets.slice(before);
  test.info().annotations.push({
    type: 'resume',
    description: `killed at ${at}%; GETs after the drop: ${resumed.map((get) => get.range || '(whole)').join(', ')}`,
  });
  expect(resumed.length, 'a GET was made after the drop').toBeGreaterThan(0);
  for (const get of resumed) {
    const start = Number(/^bytes=(\d+)-$/.exec(get.range)?.[1] ?? Number.NaN);
    expect(start, `resumed with "Range: bytes=N-", N > 0 (was "${get.range}")`).toBeGreaterThan(0);
    expect(start % RECORD, `N = ${start} is on a record boundary`).toBe(0);
    expect(start, 'resumed no earlier than what the page had already shown').toBeGreaterThanOrEqual(
      Math.floor((at / 100) * file.size),
    );
    expect(get.ticket, 'resumed with the same ticket').toBe(first?.ticket);
  }
  const statuses = await Promise.all(resumed.map(async (get) => (await get.request.response())?.status() ?? 0));
  expect(statuses, 'the server answered a resumed GET with 206 Partial Content').toContain(206);

  // One visit, one ticket: the download counts once although its bytes came in two pieces.
  await expect
    .poll(
      async () => {
        const response = await fetch(`${ferry.url}/api/shares/${shareIdOf(link)}`);
        return ((await response.json()) as { downloads?: number }).downloads;
      },
      { message: 'GET /api/shares/:id counts the download once' },
    )
    .toBe(1);
});
