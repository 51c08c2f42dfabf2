/**
 * Request links ("reverse share"): the requester (the `receiver` context) makes a link; a
 * third person in a browser of their own opens it and sends files, encrypted to the
 * requester; the requester finds them, downloads them and gets the same bytes. The
 * requester's limits and expiry are enforced with clear messages.
 */
import type { Browser, BrowserContext } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { RequestPage, requestIdOf } from './pages/request-page.ts';
import { SendPage } from './pages/send-page.ts';
import { checkAllSchemesAndSizes } from './support/a11y.ts';
import { expireRequest } from './support/clock.ts';
import { downloadHash } from './support/downloads.ts';
import { KiB, MiB } from './support/files.ts';
import { scanDataDir } from './support/scan.ts';

// A stuck click or navigation fails where it sticks instead of at the test's timeout.
test.use({ actionTimeout: 60_000, navigationTimeout: 60_000 });

/** A third person's browser, made like the fixtures' sender context (own storage, downloads on). */
async function thirdContext(browser: Browser, baseURL: string | undefined): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, acceptDownloads: true });
  // As test.use above does for the fixtures' contexts.
  context.setDefaultTimeout(60_000);
  return context;
}

/**
 * Another sender's upload straight through the API (a fresh sender key, an opaque manifest):
 * uses up the request's room while a page still shows the room it had.
 */
async function uploadDirectly(base: string, requestId: string, size: number): Promise<number> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, [
    'deriveBits',
  ])) as CryptoKeyPair;
  const senderKey = Buffer.from(await crypto.subtle.exportKey('raw', pair.publicKey)).toString('base64url');
  const body = { senderKey, readerHash: 'a'.repeat(64), manifest: 'c2VhbGVk', files: [{ size }] };
  const response = await fetch(`${base}/api/requests/${requestId}/uploads`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return response.status;
}

/** Opens a request link in a fresh page of `context`, as a sender who got the link. */
async function openAsGuest(context: BrowserContext, link: string): Promise<SendPage> {
  const guest = new SendPage(await context.newPage());
  await guest.page.goto(link);
  return guest;
}

/** The form shows once the page has read the request: wait for its file input before picking files. */
async function formReady(guest: SendPage): Promise<void> {
  await expect(guest.page.getByLabel('Files to send', { exact: true })).toBeAttached();
}

async function reloadAsGuest(guest: SendPage): Promise<void> {
  await guest.page.reload({ waitUntil: 'domcontentloaded' });
  await formReady(guest);
}

test('a third person sends two files through a request link and the requester gets them intact', async ({
  browser,
  baseURL,
  receiver,
  files,
  ferry,
}, testInfo) => {
  test.slow();
  const contract = await files.file('signed-contract-r7k.pdf', 300 * KiB + 5);
  const photo = await files.file('site-photo-r8m.jpg', 2 * MiB + 77);
  const requester = new RequestPage(receiver.page);
  await requester.open();
  const note = 'Site survey photos and the signed contract, please';
  const link = await requester.create({ megabytes: 10, files: 3, openFor: 3600, note });
  expect(link).toMatch(/\/r\/[A-Za-z0-9_-]{16}#B[A-P][A-Za-z0-9_-]{85}\.[A-Za-z0-9_-]+$/);
  await checkAllSchemesAndSizes(receiver.page, testInfo, 'request: link made');

  const third = await thirdContext(browser, baseURL);
  try {
    const guest = await openAsGuest(third, link);
    await expect(guest.page.getByRole('heading', { name: 'Send files on request' })).toBeVisible();
    await expect(guest.page.getByText('This request takes 3 files and 10.0 MB more')).toBeVisible();
    await expect(guest.page.getByRole('blockquote', { name: 'Their note' })).toHaveText(note);
    await guest.addFiles([contract.path, photo.path]);
    await checkAllSchemesAndSizes(guest.page, testInfo, 'request: sender form');
    await guest.send();
    await expect(guest.page.getByRole('status').filter({ hasText: 'Sent.' })).toBeVisible({ timeout: 120_000 });
    await expect(guest.page.getByText('This request takes 1 file and')).toBeVisible();
  } finally {
    await third.close();
  }

  // The requester's browser holds the private key: its page for the request lists the upload by name.
  await requester.openInbox(link);
  const upload = requester.upload(contract.name);
  await expect(upload).toBeVisible({ timeout: 30_000 });
  await expect(upload).toContainText(photo.name);
  await expect(upload).toContainText('2 files');
  await checkAllSchemesAndSizes(receiver.page, testInfo, 'request: received uploads');
  await upload.getByRole('link', { name: 'Open these files' }).click();

  await expect(receiver.files).toBeVisible({ timeout: 30_000 });
  await expect(receiver.files.getByRole('listitem')).toHaveCount(2);
  expect(await downloadHash(await receiver.download(contract.name))).toBe(contract.sha256);
  expect(await downloadHash(await receiver.download(photo.name))).toBe(photo.sha256);
  await expect(receiver.verified(contract.name)).toBeVisible();
  await expect(receiver.verified(photo.name)).toBeVisible();

  const findings = await scanDataDir(ferry.dataDir, { [contract.name]: contract.bytes, [photo.name]: photo.bytes }, [
    contract.name,
    photo.name,
    note,
  ]);
  expect(findings, 'plaintext or names found in the server data directory').toEqual([]);
});

test('files over the request’s limits are refused with a clear message, before any upload', async ({
  browser,
  baseURL,
  receiver,
  files,
  ferry,
}) => {
  // Three page loads and four sends on a machine shared with other runs.
  test.slow();
  const big = await files.file('too-big-scan-r2q.tif', 2 * MiB);
  const small = await files.file('small-note-r3w.txt', 10 * KiB);
  const other = await files.file('other-note-r4e.txt', 10 * KiB);
  const requester = new RequestPage(receiver.page);
  await requester.open();
  const link = await requester.create({ megabytes: 1, files: 1 });

  const third = await thirdContext(browser, baseURL);
  try {
    const guest = await openAsGuest(third, link);
    await formReady(guest);
    await guest.addFiles(big.path);
    await guest.send();
    await expect(guest.alert.filter({ hasText: 'These files are too large for this request' })).toBeVisible();
    await expect(guest.progress).toHaveCount(0);

    await reloadAsGuest(guest);
    await guest.addFiles([small.path, other.path]);
    await guest.send();
    await expect(guest.alert.filter({ hasText: 'This request takes 1 more file; you chose 2.' })).toBeVisible();

    // The page still shows room for one file when someone else takes it: the server refuses.
    await reloadAsGuest(guest);
    await expect(guest.page.getByText('This request takes 1 file and')).toBeVisible();
    expect(await uploadDirectly(ferry.url, requestIdOf(link), 1000)).toBe(201);
    await guest.addFiles(small.path);
    await guest.send();
    await expect(guest.alert.filter({ hasText: 'This request is full: it takes no more files.' })).toBeVisible();
  } finally {
    await third.close();
  }
  await requester.openInbox(link);
  await expect(requester.uploads.getByRole('listitem')).toHaveCount(1);
  // The other sender's upload is junk (its manifest opens for no one): the requester deletes it.
  await requester.uploads.getByRole('button', { name: 'Delete these files' }).click();
  await expect(receiver.page.getByText('Nothing has been sent yet.')).toBeVisible();
  await expect(receiver.page.getByText(/0 of 1\s+file and 0 B of/)).toBeVisible();
  // The requester closes it from its own page too.
  await receiver.page.getByRole('button', { name: 'Close request' }).click();
  await expect(receiver.page.getByText(/received · closed/)).toBeVisible();
  await expect(receiver.page.getByRole('button', { name: 'Close request' })).toHaveCount(0);
});

test('an expired or closed request link says so to the sender', async ({ browser, baseURL, receiver, ferry }) => {
  const requester = new RequestPage(receiver.page);
  await requester.open();
  const expiring = await requester.create({ openFor: 300 });
  const closing = await requester.create();
  // The newest request is listed first.
  await receiver.page.getByRole('button', { name: 'Close request' }).first().click();
  await expect(receiver.page.getByRole('button', { name: 'Close request' })).toHaveCount(1);

  expireRequest(ferry.dataDir, requestIdOf(expiring));
  const third = await thirdContext(browser, baseURL);
  try {
    const expired = await openAsGuest(third, expiring);
    await expect(expired.page.getByRole('heading', { name: 'This file request has expired' })).toBeVisible();
    await expect(expired.dropzone).toHaveCount(0);
    const closed = await openAsGuest(third, closing);
    await expect(closed.page.getByRole('heading', { name: 'This file request was closed' })).toBeVisible();
    const damaged = await openAsGuest(third, closing.slice(0, -10));
    await expect(damaged.page.getByRole('heading', { name: 'This request link is incomplete' })).toBeVisible();
  } finally {
    await third.close();
  }
});
