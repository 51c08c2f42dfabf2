/**
 * Ferry in WebKit, Safari's engine (Debian's WebKitGTK MiniBrowser over W3C WebDriver, on an
 * Xvfb display: support/webkit.ts), beside Chromium (puppeteer-core), both through the
 * throttling proxy of the Firefox journeys, which also puts the problem listeners into every
 * WebKit page before its own scripts (the driver shows no console).
 *
 * Run by `npm run test:webkit` (chained into `npm run test:e2e`); needs `npm run build`
 * (dist/) and e2e/ensure-webkit.mjs.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { zipLength } from '../../client/lib/transfer/receive/zip.ts';
import {
  failsLeavingNothing,
  listing,
  openShare as openShareIn,
  outcome as outcomeIn,
  saved,
  sendLink as sendLinkIn,
} from '../firefox/support/app.ts';
import { type Driven, launch } from '../firefox/support/browsers.ts';
import { SlowProxy } from '../firefox/support/slow-proxy.ts';
import { MiB, sha256File, type TestFile, Workspace } from '../support/files.ts';
import { FerryServer } from '../support/server.ts';
import { readZip } from '../support/zip.ts';
import { fileStatus, openShare, outcome, press, reaches, sendLink, waitIn } from './support/app.ts';
import { launchWebKit, WATCH_SCRIPT, type WebKit } from './support/webkit.ts';

let ferry: FerryServer;
let proxy: SlowProxy;
let files: Workspace;
let webkit: WebKit;
let chromium: Driven;

before(async () => {
  ferry = await FerryServer.start();
  proxy = await SlowProxy.start(ferry.url, { source: WATCH_SCRIPT });
  files = await Workspace.create();
  [webkit, chromium] = await Promise.all([launchWebKit(), launch('chromium')]);
});

after(async () => {
  await Promise.all([webkit?.stop(), chromium?.stop()]);
  await proxy?.close();
  await ferry?.dispose();
  await files?.dispose();
});

/** Downloads `file` from the share at `link` in Chromium; returns the saved copy's path once verified. */
async function receiveInChromium(link: string, file: TestFile): Promise<string> {
  const page = await chromium.page();
  try {
    await openShareIn(page, link);
    await page.locator(`::-p-aria([name=${JSON.stringify(`Download ${file.name}`)}][role="button"])`).click();
    const text = await outcomeIn(page, file.name);
    assert.match(text, /Verified/, `Chromium verified ${file.name}: "${text}"`);
    return await saved(chromium.downloads, file.name, file.size);
  } finally {
    await page.close();
  }
}

/** Sends `sent` by one link from Chromium (closing its tab, so the server serves the files). */
async function shareFromChromium(...sent: TestFile[]): Promise<string> {
  const page = await chromium.page();
  try {
    return await sendLinkIn(
      page,
      proxy.url,
      sent.map((file) => file.path),
    );
  } finally {
    await page.close();
  }
}

/** Opens `link` in WebKit and downloads `file`; returns the file's item text once it settles. */
async function downloadInWebKit(link: string, file: TestFile): Promise<string> {
  await openShare(webkit, link);
  await press(webkit, `Download ${file.name}`);
  return await outcome(webkit, file.name);
}

describe('WebKit and Chromium', () => {
  test('files picked and sent by link in WebKit arrive identical in Chromium', async () => {
    proxy.rate = 0;
    const small = await files.file('from-webkit-small.bin', 3 * MiB);
    const large = await files.file('from-webkit-large.bin', 12 * MiB);
    const link = await sendLink(webkit, proxy.url, [small.path, large.path]);
    for (const file of [small, large]) {
      assert.equal(await sha256File(await receiveInChromium(link, file)), file.sha256, file.name);
    }
  });

  test('a 5 MiB link made in Chromium is saved identical in WebKit', async () => {
    proxy.rate = 0;
    const file = await files.file('to-webkit.bin', 5 * MiB);
    const text = await downloadInWebKit(await shareFromChromium(file), file);
    assert.match(text, /Verified/, `WebKit verified ${file.name}: "${text}"`);
    assert.equal(await sha256File(await saved(webkit.downloads, file.name, file.size)), file.sha256);
  });

  test('a 20 MiB link made in Chromium is saved identical in WebKit: its service worker fetches and decrypts it', async () => {
    // Above 8 MiB, and WebKit can neither transfer a stream to its service worker nor open a
    // save dialog: the service worker fetches the records itself (receive/sw-fetch.ts).
    proxy.rate = 0;
    const file = await files.file('to-webkit-large.bin', 20 * MiB);
    const text = await downloadInWebKit(await shareFromChromium(file), file);
    assert.match(text, /Verified/, `WebKit verified ${file.name}: "${text}"`);
    assert.equal(await sha256File(await saved(webkit.downloads, file.name, file.size)), file.sha256);
  });

  test('WebKit: Download all of 18 MiB is refused before anything is fetched, with a sentence; each file still downloads', async () => {
    // Above 8 MiB together, WebKit here can neither transfer a stream to its service worker nor
    // stage the files in OPFS (no navigator.storage): a ZIP its service worker fetched while the
    // browser saved it would, cut off, stay under the archive's name. So it is refused.
    proxy.rate = 0;
    const sent = [
      await files.file('all-webkit-survey.bin', 12 * MiB),
      await files.file('all-webkit-notes.bin', 6 * MiB),
    ];
    const link = await shareFromChromium(...sent);
    const reads = proxy.fileGets;
    await openShare(webkit, link);
    await press(webkit, 'Download all');
    const said = await waitIn(
      webkit,
      'the refusal shows',
      () =>
        [...document.querySelectorAll('[role="alert"]')].map((node) => node.textContent?.trim()).join(' | ') ||
        undefined,
      [],
    );
    assert.equal(
      said,
      "This browser can't save an archive this large; try Chrome or Edge, a window that is not private, or download the files one at a time.",
    );
    for (const file of sent) assert.doesNotMatch(await fileStatus(webkit, file.name), /Verified|Failed|%/);
    assert.equal(proxy.fileGets, reads, 'no ciphertext was fetched');
    await new Promise((r) => setTimeout(r, 2_000));
    const id = new URL(link).pathname.split('/').pop();
    assert.equal((await listing(webkit.downloads)).has(`ferry-${id}.zip`), false, 'no archive under its name');
    // One at a time still works (a file above 8 MiB is fetched by the service worker).
    const [survey] = sent as [TestFile];
    await press(webkit, `Download ${survey.name}`);
    assert.match(await outcome(webkit, survey.name), /Verified/);
    assert.equal(await sha256File(await saved(webkit.downloads, survey.name, survey.size)), survey.sha256);
  });

  test('WebKit: Download all of 3 + 4 MiB is built in memory and saved only once every file verified: one ZIP of identical files', async () => {
    proxy.rate = 0;
    const sent = [await files.file('small-all-chart.bin', 3 * MiB), await files.file('small-all-log.bin', 4 * MiB)];
    const link = await shareFromChromium(...sent);
    await openShare(webkit, link);
    await press(webkit, 'Download all');
    for (const file of sent) {
      const text = await outcome(webkit, file.name);
      assert.match(text, /Verified/, `WebKit verified ${file.name} in the archive: "${text}"`);
    }
    const id = new URL(link).pathname.split('/').pop();
    const size = zipLength(sent.map(({ name, size }) => ({ name, size })));
    assert.ok(size <= 8 * MiB, `the archive (${size} bytes) fits the in-memory limit`);
    const zip = readZip(await readFile(await saved(webkit.downloads, `ferry-${id}.zip`, size)));
    assert.deepEqual(zip.map((entry) => entry.name).sort(), sent.map((file) => file.name).sort());
    for (const entry of zip) {
      const file = sent.find((f) => f.name === entry.name);
      assert.ok(file && entry.bytes.equals(file.bytes), `${entry.name} in the ZIP is byte for byte the file`);
    }
  });

  test('WebKit: Download all of 3 + 4 MiB cut off mid-way says it failed and leaves nothing under the archive’s name', async () => {
    const sent = [await files.file('cut-all-chart.bin', 3 * MiB), await files.file('cut-all-log.bin', 4 * MiB)];
    const [chart, log] = sent as [TestFile, TestFile];
    const link = await shareFromChromium(...sent);
    const id = new URL(link).pathname.split('/').pop();
    // 7 MiB at 256 KiB/s: 28 s; cut in the second file, after the first verified.
    proxy.rate = 256 * 1024;
    try {
      await openShare(webkit, link);
      await press(webkit, 'Download all');
      await reaches(webkit, log.name, 20);
      await ferry.kill('SIGKILL');
      proxy.cut();
      await failsLeavingNothing(() => fileStatus(webkit, log.name), webkit.downloads, `ferry-${id}.zip`);
      // The first file verified inside an archive that was never saved: not "Verified".
      assert.match(await fileStatus(webkit, chart.name), /Not saved/);
      const left = await listing(webkit.downloads);
      assert.equal(left.has(`ferry-${id}.zip`), false, `no archive at all: ${JSON.stringify([...left])}`);
    } finally {
      proxy.rate = 0;
      await ferry.restart();
    }
  });

  test('WebKit: a 12 MiB download its service worker fetches, cut off for good, says it failed and is never whole', async () => {
    const file = await files.file('cut-webkit-large.bin', 12 * MiB);
    const link = await shareFromChromium(file);
    // 12 MiB at 512 KiB/s: 24 s, cut at a fifth, the server gone until the test ends.
    proxy.rate = 512 * 1024;
    try {
      await openShare(webkit, link);
      await press(webkit, `Download ${file.name}`);
      await reaches(webkit, file.name, 20);
      await ferry.kill('SIGKILL');
      proxy.cut();
      const text = await outcome(webkit, file.name);
      assert.match(text, /Failed/, `the page says the download failed: "${text}"`);
      assert.doesNotMatch(text, /Verified/);
      // WebKit writes a download its service worker serves straight under the real name and
      // keeps what it had when the body errors (sw-download-cut.test.ts shows it without
      // Ferry): the file is never whole, and the page says a part may be left, not "not saved".
      assert.match(text, /Your browser may have kept the part it received as cut-webkit-large\.bin: delete it/);
      assert.doesNotMatch(text, /not saved/);
      await new Promise((r) => setTimeout(r, 3_000));
      const left = (await listing(webkit.downloads)).get(file.name) ?? 0;
      assert.ok(left < file.size, `what is left under ${file.name} is not the whole file (${left} bytes)`);
    } finally {
      proxy.rate = 0;
      await ferry.restart();
    }
  });

  test('WebKit: a download whose network is cut says it failed and leaves no complete-looking file', async () => {
    const file = await files.file('cut-webkit.bin', 5 * MiB);
    const link = await shareFromChromium(file);
    // 5 MiB at 256 KiB/s: 20 s, cut at a fifth.
    proxy.rate = 256 * 1024;
    try {
      await openShare(webkit, link);
      await press(webkit, `Download ${file.name}`);
      await reaches(webkit, file.name, 20);
      await ferry.kill('SIGKILL');
      proxy.cut();
      await failsLeavingNothing(() => fileStatus(webkit, file.name), webkit.downloads, file.name);
    } finally {
      proxy.rate = 0;
      await ferry.restart();
    }
  });

  test('WebKit logs no CSP violation, uncaught error or unhandled rejection on any view', async () => {
    // The send view, share pages and their downloads were opened above; add a request link's
    // page (made in WebKit) and the admin page.
    await webkit.open(`${proxy.url}/`);
    await press(webkit, 'Create request link');
    const request = await waitIn(
      webkit,
      'the request link shows',
      () =>
        [...document.querySelectorAll('input')]
          .map((input) => input.value)
          .find((value) => /\/r\/[A-Za-z0-9_-]+/.test(value)),
      [],
    );
    await webkit.open(request);
    // Opened by the browser that made it: the requester's view of what was sent.
    await waitIn(webkit, 'the request page shows', () => document.body.innerText.includes('Files sent to you'), []);
    await webkit.open(`${proxy.url}/admin`);
    await waitIn(webkit, 'the admin page shows', () => document.querySelector('h1')?.textContent === 'Admin', []);
    const views = new Set(webkit.opened.map((url) => new URL(url).pathname.split('/')[1]));
    assert.deepEqual([...views].sort(), ['', 'admin', 'r', 's'], 'every kind of view was opened');
    assert.deepEqual(await webkit.problems(), []);
  });
});
