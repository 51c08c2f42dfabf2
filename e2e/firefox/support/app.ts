/**
 * Ferry's views driven through puppeteer-core, in any browser: the names are those of
 * e2e/ui-contract.md, found by accessible role and name (`::-p-aria`), and form fields by
 * their label (Firefox's accessibility locator answers a field's name with its <label>).
 */
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ElementHandle, Page } from 'puppeteer-core';
import { cardTitle, FILE_INPUT, fileItemText, shareLinkIn, shareLinks, uploadsDone } from '../../support/in-page.ts';

export const LONG = 120_000;

/** The form field labelled exactly `text`. */
export async function field(page: Page, text: string): Promise<ElementHandle<HTMLInputElement>> {
  const handle = await page.waitForFunction(
    (label: string) =>
      [...document.querySelectorAll('label')].find((l) => l.textContent?.trim() === label)?.control ?? undefined,
    { timeout: 30_000 },
    text,
  );
  return handle as unknown as ElementHandle<HTMLInputElement>;
}

/** Clicks the button named `name`. */
export async function press(page: Page, name: string): Promise<void> {
  await page
    .locator(`::-p-aria([name=${JSON.stringify(name)}][role="button"])`)
    .setTimeout(30_000)
    .click();
}

/**
 * Sends `paths` from the send view at `origin` and returns the new share link once the
 * upload is done: the one in the share card (an `article`) headed by the file's name
 * (earlier sends stay listed).
 */
export async function sendLink(page: Page, origin: string, paths: string[], password?: string): Promise<string> {
  await page.goto(`${origin}/`);
  const input = await page.waitForSelector(FILE_INPUT);
  if (!input) throw new Error('the file input is missing');
  await input.uploadFile(...paths);
  if (password !== undefined) await (await field(page, 'Password (optional)')).type(password);
  // The send view lists earlier links too, maybe under the same heading ("2 files").
  const known = await page.evaluate(shareLinks);
  await press(page, 'Send');
  const link = await page.waitForFunction(shareLinkIn, { timeout: LONG }, cardTitle(paths), known);
  // The link shows as soon as the share exists; the upload is done when its progress bar goes.
  await page.waitForFunction(uploadsDone, { timeout: LONG });
  return (await link.jsonValue()) as string;
}

/** Opens a share link and waits for its file list (unlocking it with `password` first). */
export async function openShare(page: Page, link: string, password?: string): Promise<void> {
  await page.goto(link);
  if (password !== undefined) {
    await (await field(page, 'Password')).type(password);
    await press(page, 'Unlock');
  }
  try {
    await page.locator('::-p-aria([name="Files"][role="list"])').setTimeout(30_000).wait();
  } catch (error) {
    const text = await page.evaluate(() => document.body.innerText).catch(() => '?');
    throw new Error(`the share did not open; the page says: ${text.slice(0, 600)}`, { cause: error });
  }
}

/** The text of the file's item in the Files list ('' while it is not shown). */
export async function fileStatus(page: Page, name: string): Promise<string> {
  return await page.evaluate(fileItemText, name);
}

/** Waits until the file reads Verified or Failed; returns its item's text. */
export async function outcome(page: Page, name: string, timeout = LONG): Promise<string> {
  return await settles(() => fileStatus(page, name), name, timeout);
}

/** Waits until the file shows at least `percent` % (or an outcome). */
export async function reaches(page: Page, name: string, percent: number, timeout = LONG): Promise<number> {
  return await passes(() => fileStatus(page, name), name, percent, timeout);
}

/** Polls `status` (a file's item text) until it reads Verified or Failed; returns it. */
export async function settles(status: () => Promise<string>, name: string, timeout = LONG): Promise<string> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = await status();
    if (/\bVerified\b|\bFailed\b/.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`${name} neither verified nor failed within ${timeout} ms: "${text}"`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Polls `status` until the file shows at least `percent` %; fails if it ends first. */
export async function passes(
  status: () => Promise<string>,
  name: string,
  percent: number,
  timeout = LONG,
): Promise<number> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = await status();
    const seen = /\b(\d{1,3})%/.exec(text);
    if (seen && Number(seen[1]) >= percent) return Number(seen[1]);
    if (/\bVerified\b|\bFailed\b/.test(text)) throw new Error(`${name} ended before ${percent} %: "${text}"`);
    if (Date.now() > deadline) throw new Error(`${name} did not reach ${percent} % within ${timeout} ms: "${text}"`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Names and sizes in a download directory. */
export async function listing(dir: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const name of await readdir(dir)) {
    // A browser may rename a file (its .part or .crdownload) between the two calls.
    const size = await stat(join(dir, name)).then(
      (found) => found.size,
      () => undefined,
    );
    if (size !== undefined) sizes.set(name, size);
  }
  return sizes;
}

const IN_PROGRESS = /\.(part|crdownload)$/;

/** Waits until `name` is in `dir` with `size` bytes and nothing is still being written there. */
export async function saved(dir: string, name: string, size: number, timeout = LONG): Promise<string> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const files = await listing(dir);
    if (files.get(name) === size && ![...files.keys()].some((n) => IN_PROGRESS.test(n))) return join(dir, name);
    if (Date.now() > deadline) throw new Error(`${name} (${size} bytes) not saved: ${JSON.stringify([...files])}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * After a download was cut: the file (whose item text `status` reads) must end as Failed,
 * and once the browser has had time to settle its download, nothing may be left in
 * `downloads` under its name (an empty file is a browser's placeholder, not a complete-looking one).
 */
export async function failsLeavingNothing(
  status: () => Promise<string>,
  downloads: string,
  name: string,
): Promise<void> {
  const text = await settles(status, name);
  assert.match(text, /Failed/, `the page says the download failed: "${text}"`);
  assert.doesNotMatch(text, /Verified/);
  await new Promise((r) => setTimeout(r, 3_000));
  const left = await listing(downloads);
  assert.ok((left.get(name) ?? 0) === 0, `nothing complete-looking under ${name}: ${JSON.stringify([...left])}`);
}

/** The name this page says it appears as to nearby devices, once connected. */
export async function appearsAs(page: Page): Promise<string> {
  const handle = await page.waitForFunction(() => /This device appears as (.+)\./.exec(document.body.innerText)?.[1], {
    timeout: 30_000,
  });
  return (await handle.jsonValue()) as string;
}
