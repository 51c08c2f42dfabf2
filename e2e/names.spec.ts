/**
 * Hostile names: a file named like an HTML tag and a file under folders whose names are
 * markup too. Both sides show them as text (no element is created, no script runs) and the
 * browser saves them under safe names. Names that would collide on disk get unique ones.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { downloadBytes, downloadHash } from './support/downloads.ts';
import { KiB } from './support/files.ts';
import { readZip } from './support/zip.ts';

const MARKUP_NAME = '<img src=x onerror=alert(1)>.txt';
/** Characters a saved name must not have: separators, controls and what Windows forbids. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const UNSAFE = /[/\\<>:"|?*\u0000-\u001f]/;

function guard(page: Page, who: string, dialogs: string[]): void {
  page.on('dialog', (dialog) => {
    dialogs.push(`${who}: ${dialog.message()}`);
    void dialog.dismiss();
  });
}

async function injected(page: Page): Promise<number> {
  return await page.locator('img[src="x"], svg[onload], [onerror], [onload]').count();
}

test('names with markup and folders are shown as text and saved safely', async ({ sender, receiver, files }) => {
  const dialogs: string[] = [];
  guard(sender.page, 'sender', dialogs);
  guard(receiver.page, 'receiver', dialogs);
  const markup = await files.file(MARKUP_NAME, 2 * KiB);
  const folder = await files.folder('outer', { '<svg onload=alert(2)>/deep-ledger.txt': 3 * KiB });
  const deep = folder.files[0]!;

  await sender.open();
  await sender.addFiles(markup.path);
  await sender.addFolder(folder.path);
  await sender.send();
  const link = await sender.link();
  expect(await injected(sender.page)).toBe(0);

  await receiver.openShare(link);
  await expect(receiver.files.getByRole('listitem')).toHaveCount(2);
  // The sender may repair '<' and '>' to '_' (shared/names.ts); either way it is plain text.
  const markupItem = receiver.files.getByRole('listitem').filter({ hasText: /img src=x onerror=alert\(1\)/ });
  const deepItem = receiver.files.getByRole('listitem').filter({ hasText: 'deep-ledger.txt' });
  await expect(markupItem).toBeVisible();
  await expect(deepItem).toContainText(/outer\/.svg onload=alert\(2\).\/deep-ledger\.txt/);
  expect(await injected(receiver.page)).toBe(0);

  const first = await (async () => {
    const [download] = await Promise.all([
      receiver.page.waitForEvent('download'),
      markupItem.getByRole('button', { name: /^Download / }).click(),
    ]);
    return download;
  })();
  expect(first.suggestedFilename()).not.toMatch(UNSAFE);
  expect(first.suggestedFilename()).toContain('onerror=alert(1)');
  expect(await downloadHash(first)).toBe(markup.sha256);

  const [second] = await Promise.all([
    receiver.page.waitForEvent('download'),
    deepItem.getByRole('button', { name: /^Download / }).click(),
  ]);
  expect(second.suggestedFilename()).not.toMatch(UNSAFE);
  expect(second.suggestedFilename()).toMatch(/deep-ledger\.txt$/);
  expect(await downloadHash(second)).toBe(deep.sha256);

  const zip = readZip(await downloadBytes(await receiver.downloadAll()));
  expect(zip).toHaveLength(2);
  for (const entry of zip) {
    const segments = entry.name.split('/');
    expect(entry.name.startsWith('/'), entry.name).toBe(false);
    expect(
      segments.some((s) => s === '' || s === '.' || s === '..' || UNSAFE.test(s)),
      entry.name,
    ).toBe(false);
  }
  expect(zip.find((e) => e.name.endsWith('deep-ledger.txt'))?.bytes.equals(deep.bytes)).toBe(true);
  expect(zip.find((e) => e.name.includes('onerror'))?.bytes.equals(markup.bytes)).toBe(true);

  expect(await injected(receiver.page)).toBe(0);
  expect(dialogs, 'no script ran from a name').toEqual([]);
});

test('names that one disk would merge are made unique, and the ZIP unpacks to every file', async ({
  sender,
  receiver,
  files,
}) => {
  // "a.txt" and "A.txt" are one file on Windows and macOS; a file "docs" cannot sit beside a folder "docs".
  const lower = await files.file('one/a.txt', 1 * KiB);
  const upper = await files.file('two/A.txt', 2 * KiB);
  const plain = await files.file('three/docs', 3 * KiB);
  const folder = await files.folder('docs', { 'a.txt': 4 * KiB });

  await sender.open();
  await sender.addFiles([lower.path, upper.path, plain.path]);
  await sender.addFolder(folder.path);
  await sender.send();
  await receiver.openShare(await sender.link());
  await expect(receiver.files.getByRole('listitem')).toHaveCount(4);

  const zip = readZip(await downloadBytes(await receiver.downloadAll()));
  const byName = new Map(zip.map((e) => [e.name, e.bytes]));
  expect([...byName.keys()].sort()).toEqual(['A (2).txt', 'a.txt', 'docs (2)', 'docs/a.txt']);
  expect(byName.get('a.txt')?.equals(lower.bytes)).toBe(true);
  expect(byName.get('A (2).txt')?.equals(upper.bytes)).toBe(true);
  expect(byName.get('docs (2)')?.equals(plain.bytes)).toBe(true);
  expect(byName.get('docs/a.txt')?.equals(folder.files[0]?.bytes ?? Buffer.alloc(0))).toBe(true);
  const folded = [...byName.keys()].map((name) => name.toLowerCase());
  expect(new Set(folded).size, 'unique up to case').toBe(4);
});
