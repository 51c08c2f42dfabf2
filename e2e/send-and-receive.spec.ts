/**
 * The main journey: a 20 MiB file and a folder of three files, with expiry and a download
 * limit, go from one browser to another; what arrives is byte for byte what was sent, and
 * the server's disk holds no plaintext and no file name.
 */
import { expect, test } from './fixtures.ts';
import { downloadBytes, downloadHash, sizePattern } from './support/downloads.ts';
import { MiB } from './support/files.ts';
import { scanDataDir } from './support/scan.ts';
import { readZip } from './support/zip.ts';

test('a file and a folder arrive intact, and the server never sees plaintext or names', async ({
  sender,
  receiver,
  files,
  ferry,
}) => {
  const big = await files.file('ferry-quarterly-ledger-7f3a.bin', 20 * MiB);
  const album = await files.folder('holiday-album-q9k', {
    'beach-sunset-x1w.jpg': 1 * MiB + 123,
    'notes/packing-list-x2v.txt': 200 * 1024,
    'notes/tickets-x3u.pdf': 3000,
  });
  const all = [big, ...album.files];

  await sender.open();
  await sender.addFiles(big.path);
  await sender.addFolder(album.path);
  await sender.setOptions({ expiresAfter: 3600, downloadLimit: 5 });
  await sender.send();
  const link = await sender.link();
  await expect(sender.currentCard.getByText('0 of 5 downloads · expires in 59 min')).toBeVisible();

  await receiver.openShare(link);
  await expect(receiver.page.getByRole('heading', { name: '4 files' })).toBeVisible();
  await expect(receiver.files.getByRole('listitem')).toHaveCount(4);
  for (const file of all) {
    await expect(receiver.file(file.name)).toContainText(sizePattern(file.size));
    await expect(receiver.downloadButton(file.name)).toBeVisible();
  }

  const single = await receiver.download(big.name);
  expect(await downloadHash(single), 'the 20 MiB file, downloaded alone').toBe(big.sha256);
  await expect(receiver.verified(big.name)).toBeVisible();

  const zip = readZip(await downloadBytes(await receiver.downloadAll()));
  expect(zip.map((entry) => entry.name).sort()).toEqual(all.map((file) => file.name).sort());
  for (const entry of zip) {
    const sent = all.find((file) => file.name === entry.name)!;
    expect(entry.bytes.equals(sent.bytes), `${entry.name} in the ZIP`).toBe(true);
  }
  for (const file of all) await expect(receiver.verified(file.name)).toBeVisible();
  await expect(receiver.allVerified).toBeVisible();

  const findings = await scanDataDir(ferry.dataDir, Object.fromEntries(all.map((file) => [file.name, file.bytes])), [
    ...all.map((file) => file.name),
    ...all.map((file) => file.name.split('/').pop()!),
    'holiday-album-q9k',
  ]);
  expect(findings, 'plaintext or names found in the server data directory').toEqual([]);
});
