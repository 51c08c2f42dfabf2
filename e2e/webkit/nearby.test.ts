/**
 * Nearby devices in a WebKit without WebRTC (WebKitGTK 2.50 has no RTCPeerConnection): the
 * page says it cannot connect to other devices and is not shown to them (client/lib/p2p/
 * capabilities.ts), so a Chromium page on the same network lists another Chromium page but
 * never the WebKit one; WebKit lists no device to send to (its files go by link, as in
 * journeys.test.ts); it offers no pairing and says why, and a pairing link opened in it enters
 * no code (the other side is not left waiting); a first visit shows no update prompt; nothing
 * is thrown uncaught.
 * Every page is opened through the proxy, which also makes them one network to the server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import { appearsAs } from '../firefox/support/app.ts';
import { type Driven, launch } from '../firefox/support/browsers.ts';
import { SlowProxy } from '../firefox/support/slow-proxy.ts';
import { FerryServer } from '../support/server.ts';
import { waitIn } from './support/app.ts';
import { launchWebKit, WATCH_SCRIPT, type WebKit } from './support/webkit.ts';

const NO_WEBRTC =
  "This browser can't connect to other devices directly (it has no WebRTC), so it is not shown to them.";
const PAIRING_NO_WEBRTC =
  "Pairing connects the two devices directly, which this browser can't do (it has no WebRTC). Send with a link instead.";

let ferry: FerryServer;
let proxy: SlowProxy;
let webkit: WebKit;
let chromium: Driven;

before(async () => {
  ferry = await FerryServer.start();
  proxy = await SlowProxy.start(ferry.url, { source: WATCH_SCRIPT });
  [webkit, chromium] = await Promise.all([launchWebKit(), launch('chromium')]);
});

after(async () => {
  await Promise.all([webkit?.stop(), chromium?.stop()]);
  await proxy?.close();
  await ferry?.dispose();
});

/** The devices the Nearby devices section offers to send to, by their tiles' file inputs ("Files for <name>"). */
function tilesIn(): string[] {
  return [...document.querySelectorAll('section[aria-labelledby="nearby-heading"] ul.tiles > li')].map(
    (tile) => tile.querySelector('input[type="file"]')?.getAttribute('aria-label') ?? tile.textContent?.trim() ?? '',
  );
}

/** What the Pairing section says, its buttons, and whether it shows a code. */
function pairingIn(): { says: string; buttons: (string | undefined)[]; code: boolean } {
  const section = document.querySelector('section[aria-labelledby="pairing-heading"]');
  return {
    says: section?.querySelector('[role="status"]')?.textContent?.trim() ?? '',
    buttons: [...(section?.querySelectorAll('button') ?? [])].map((button) => button.textContent?.trim()),
    code: section?.querySelector('[aria-label="Pairing code"]') != null,
  };
}

/**
 * Opens Ferry in a new Chromium page; answers the page and the name it appears as. Pages
 * of one profile are one device (its id is stored), so `apart` opens it in a profile of its own.
 */
async function chromiumDevice(apart = false): Promise<{ page: Page; name: string }> {
  const page = apart ? await (await chromium.browser.createBrowserContext()).newPage() : await chromium.page();
  await page.goto(`${proxy.url}/`);
  return { page, name: await appearsAs(page) };
}

describe('nearby devices in a WebKit without WebRTC', () => {
  test('WebKit is not offered as a nearby device, lists none, and logs no uncaught error', async () => {
    const looking = await chromiumDevice();
    await webkit.open(`${proxy.url}/`);
    await waitIn(
      webkit,
      'the page says why it is not shown',
      (sentence: string) => document.body.innerText.includes(sentence),
      [NO_WEBRTC],
    );
    const other = await chromiumDevice(true);
    // The other Chromium page shows up; the WebKit page, there since before it, gets as long again.
    await looking.page.waitForFunction(
      (name: string) => !!document.querySelector(`input[aria-label="Files for ${name}"]`),
      { timeout: 30_000 },
      other.name,
    );
    await new Promise((r) => setTimeout(r, 3_000));
    assert.deepEqual(
      await looking.page.evaluate(tilesIn),
      [`Files for ${other.name}`],
      'Chromium lists the other Chromium page only',
    );
    assert.deepEqual(await webkit.run(tilesIn), [], 'WebKit lists no device to send to directly');
    // A fresh profile's first visit installs the service worker: that is no update to offer.
    await webkit.run(() => navigator.serviceWorker.ready.then(() => undefined));
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(
      await webkit.run(() => document.body.innerText.includes('A new version of Ferry is ready')),
      false,
      'a first visit shows no update prompt',
    );
    assert.deepEqual(await webkit.problems(), []);
    await Promise.all([looking.page.close(), other.page.browserContext().close()]);
  });

  test('WebKit offers no pairing and says why; a pairing link opened in it enters no code', async () => {
    const device = await chromiumDevice();
    await device.page.locator('::-p-aria([name="Pair a device"][role="button"])').click();
    const input = await device.page.waitForSelector('::-p-aria([name="Pairing link"][role="textbox"])');
    const link = (await input?.evaluate((node) => (node as HTMLInputElement).value)) ?? '';
    assert.match(link, /#pair=/);
    await webkit.open(link);
    await waitIn(
      webkit,
      'WebKit says it cannot pair',
      () => document.querySelector('section[aria-labelledby="pairing-heading"] [role="status"]') !== null,
      [],
    );
    assert.deepEqual(await webkit.run(pairingIn), { says: PAIRING_NO_WEBRTC, buttons: [], code: false });
    // The link's code was not entered: the Chromium side still shows it, not "Connecting to …".
    await new Promise((r) => setTimeout(r, 3_000));
    assert.ok(await device.page.$('::-p-aria([name="Pairing code"])'), 'Chromium still shows its pairing code');
    assert.equal(await device.page.evaluate(() => document.body.innerText.includes('Connecting to')), false);
    assert.deepEqual(await webkit.problems(), []);
    await device.page.close();
  });
});
