/**
 * Nearby transfers between Firefox and Chromium, both ways: the codes match on both
 * screens, the recipient accepts, and the file (over 8 MiB, so it leaves OPFS through the
 * service worker stream) arrives identical and verified.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import { MiB, sha256File, Workspace } from '../support/files.ts';
import { FerryServer } from '../support/server.ts';
import { appearsAs, press, saved } from './support/app.ts';
import { type Driven, launch } from './support/browsers.ts';

let ferry: FerryServer;
let files: Workspace;
let firefox: Driven;
let chromium: Driven;
/** One network room needs one address: Firefox takes localhost as ::1, Chromium as 127.0.0.1. */
let origin: string;

before(async () => {
  ferry = await FerryServer.start();
  origin = ferry.url.replace('localhost', '127.0.0.1');
  files = await Workspace.create();
  [firefox, chromium] = await Promise.all([launch('firefox', { serviceWorkerIdleMs: 3_000 }), launch('chromium')]);
});

after(async () => {
  await Promise.all([firefox?.stop(), chromium?.stop()]);
  await ferry?.dispose();
  await files?.dispose();
});

/** The text of the element labelled `label` (aria-label), once it matches `pattern`. */
async function labelled(page: Page, label: string, pattern: RegExp): Promise<string> {
  const handle = await page.waitForFunction(
    (name: string, source: string) => {
      const text = document.querySelector(`[aria-label="${name}"]`)?.textContent?.trim() ?? '';
      return new RegExp(source).test(text) ? text : undefined;
    },
    { timeout: 60_000 },
    label,
    pattern.source,
  );
  return (await handle.jsonValue()) as string;
}

describe('nearby between Firefox and Chromium', () => {
  for (const [fromName, toName] of [
    ['firefox', 'chromium'],
    ['chromium', 'firefox'],
  ] as const) {
    test(`${fromName} sends to ${toName} directly, identical and verified`, async () => {
      const browsers = { firefox, chromium };
      const [from, to] = [browsers[fromName], browsers[toName]];
      const file = await files.file(`nearby-${fromName}.bin`, 12 * MiB);
      const sender = await from.page();
      const receiver = await to.page();
      await Promise.all([sender.goto(`${origin}/`), receiver.goto(`${origin}/`)]);
      const senderName = await appearsAs(sender);
      const receiverName = await appearsAs(receiver);
      await sender.locator(`::-p-aria([name="Send to ${receiverName}"][role="button"])`).setTimeout(30_000).wait();
      const input = await sender.waitForSelector(`input[aria-label="Files for ${receiverName}"]`);
      await input?.uploadFile(file.path);
      const code = await labelled(sender, `Verification code with ${receiverName}`, /^\d{6}$/);
      assert.equal(await labelled(receiver, `Verification code with ${senderName}`, /^\d{6}$/), code);
      await press(sender, 'Codes match');
      assert.equal(await labelled(receiver, `Verification code from ${senderName}`, /^\d{6}$/), code);
      await press(receiver, 'Accept');
      const path = await saved(to.downloads, file.name, file.size);
      assert.equal(await sha256File(path), file.sha256);
      await receiver.waitForFunction(() => document.body.innerText.includes('Received and verified.'), {
        timeout: 60_000,
      });
      await Promise.all([sender.close(), receiver.close()]);
    });
  }
});
