/**
 * Firefox's views beside Chromium's: form fields inside their columns, and a private window
 * (no OPFS: `navigator.storage.getDirectory()` rejects there) that does not show itself to
 * nearby devices as one they can send to, says why, and leaves no unhandled rejection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import { FerryServer } from '../support/server.ts';
import { appearsAs } from './support/app.ts';
import { type Driven, launch } from './support/browsers.ts';

let ferry: FerryServer;
let firefox: Driven;
let chromium: Driven;

before(async () => {
  ferry = await FerryServer.start();
  [firefox, chromium] = await Promise.all([launch('firefox'), launch('chromium')]);
});

after(async () => {
  await Promise.all([firefox?.stop(), chromium?.stop()]);
  await ferry?.dispose();
});

/** Awaits `doing`, naming the step when it fails. */
async function step<T>(what: string, doing: Promise<T>): Promise<T> {
  try {
    return await doing;
  } catch (error) {
    throw new Error(`${what}: ${String(error)}`, { cause: error });
  }
}

/** How many device tiles the Nearby devices section lists. */
async function tileCount(page: Page): Promise<number> {
  return await page.evaluate(
    () => document.querySelectorAll('section[aria-labelledby="nearby-heading"] ul.tiles > li').length,
  );
}

describe('Firefox views', () => {
  test('form fields stay inside their columns at 390 and 1280 px', async () => {
    const page = await firefox.page();
    for (const width of [390, 1280]) {
      await page.setViewport({ width, height: 900 });
      await page.goto(`${ferry.url}/`);
      await page.locator('::-p-aria([name="Send"][role="button"])').wait();
      const overflows = await page.evaluate(() =>
        [...document.querySelectorAll('fieldset.settings .field')].flatMap((field) => {
          const box = field.getBoundingClientRect();
          return [...field.querySelectorAll('input, select')].flatMap((control) => {
            const right = control.getBoundingClientRect().right;
            return right > box.right + 0.5
              ? [`${control.id}: ${(right - box.right).toFixed(1)} px past its column`]
              : [];
          });
        }),
      );
      assert.deepEqual(overflows, [], `at ${width} px`);
    }
    await page.close();
  });

  test('a private window is not offered as a nearby device, says why, and rejects nothing unhandled', async () => {
    const privateFirefox = await launch('firefox', { private: true });
    // One network room needs one address: Firefox takes localhost as ::1, Chromium as 127.0.0.1.
    const origin = ferry.url.replace('localhost', '127.0.0.1');
    try {
      const listed = await firefox.page();
      await listed.goto(`${origin}/`);
      const listedName = await step('the normal Firefox window connects', appearsAs(listed));
      const hidden = await privateFirefox.page();
      await hidden.goto(`${origin}/`);
      await step(
        'the private window says why it is not shown',
        hidden.waitForFunction(
          () => document.body.innerText.includes("This browser can't store files received from other devices"),
          { timeout: 30_000 },
        ),
      );
      const looking = await chromium.page();
      await looking.goto(`${origin}/`);
      await step('Chromium connects', appearsAs(looking));
      // The normal Firefox window shows up in Chromium; give the private one as long again.
      await step(
        `Chromium shows ${listedName}`,
        looking.waitForFunction(
          (name: string) => document.body.innerText.includes(name),
          { timeout: 30_000 },
          listedName,
        ),
      );
      await new Promise((r) => setTimeout(r, 3_000));
      assert.equal(await tileCount(looking), 1, 'Chromium sees the normal Firefox window only');
      assert.deepEqual(privateFirefox.problems, [], 'the private window logged no error or unhandled rejection');
      await Promise.all([listed.close(), looking.close()]);
    } finally {
      await privateFirefox.stop();
    }
  });
});
