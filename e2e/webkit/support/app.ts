/**
 * Ferry's views driven in WebKit over W3C WebDriver: buttons found by their accessible name
 * (aria-label, else their text: the names of e2e/ui-contract.md) and clicked by the driver,
 * the page read with the same in-page questions as Firefox and Chromium (../../support/in-page.ts).
 */
import { By, until } from 'selenium-webdriver';
import { LONG, passes, settles } from '../../firefox/support/app.ts';
import { cardTitle, FILE_INPUT, fileItemText, shareLinkIn, uploadsDone } from '../../support/in-page.ts';
import type { WebKit } from './webkit.ts';

/** Polls `fn` in the page until it returns something other than undefined/false; returns it. */
export async function waitIn<T, A extends unknown[]>(
  webkit: WebKit,
  what: string,
  fn: (...args: A) => T | undefined | false,
  args: A,
  timeout = LONG,
): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await webkit.run(fn, ...args);
    if (value !== undefined && value !== false && value !== null) return value as T;
    if (Date.now() > deadline) {
      const said = await webkit
        .run(() => ({
          alerts: [...document.querySelectorAll('[role="alert"]')].map((node) => node.textContent?.trim()).join(' | '),
          text: `${location.href}: ${document.body.innerText.replace(/\s+/g, ' ').slice(0, 3000)}`,
        }))
        .catch((error) => ({ alerts: '', text: String(error) }));
      throw new Error(`WebKit: not ${what} within ${timeout} ms; alerts: ${said.alerts}; the page says: ${said.text}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Where the button `xpath` finds is, once scrolled to the middle of the view, and whether it
 * is the element at its centre (nothing covers it); null while there is no such button.
 */
function placeOf(xpath: string): string | null {
  const button = document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null)
    .singleNodeValue as HTMLButtonElement | null;
  if (!button || button.disabled) return null;
  button.scrollIntoView({ block: 'center' });
  const box = button.getBoundingClientRect();
  const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  return button.contains(top) ? `${box.x},${box.y},${box.width},${box.height}` : null;
}

/**
 * Clicks the button whose accessible name is `name`, once it is enabled, uncovered and has
 * kept its place for 300 ms (Playwright's "stable" check): the driver clicks at a point, so a
 * late layout shift (a banner appearing above) would send the click to another element.
 */
export async function press(webkit: WebKit, name: string): Promise<void> {
  const quoted = JSON.stringify(name);
  const xpath = `//button[@aria-label=${quoted} or (not(@aria-label) and normalize-space()=${quoted})]`;
  const deadline = Date.now() + 30_000;
  let last: string | null = null;
  for (;;) {
    const place = await webkit.run(placeOf, xpath);
    if (place !== null && place === last) break;
    if (Date.now() > deadline) throw new Error(`WebKit: no steady, uncovered button named ${name} (${place})`);
    last = place;
    await new Promise((r) => setTimeout(r, 300));
  }
  await webkit.driver.findElement(By.xpath(xpath)).click();
}

/** Sends `paths` by link from the send view at `origin`; returns the link once the upload is done. */
export async function sendLink(webkit: WebKit, origin: string, paths: string[]): Promise<string> {
  await webkit.open(`${origin}/`);
  const input = await webkit.driver.wait(until.elementLocated(By.css(FILE_INPUT)), 30_000);
  // W3C WebDriver: keys sent to a file input pick the files named, one a line.
  await input.sendKeys(paths.join('\n'));
  await press(webkit, 'Send');
  const link = await waitIn(webkit, 'the share link shows', shareLinkIn, [cardTitle(paths)]);
  await waitIn(webkit, 'the upload finishes', uploadsDone, []);
  return link;
}

/** Opens a share link and waits for its file list. */
export async function openShare(webkit: WebKit, link: string): Promise<void> {
  await webkit.open(link);
  await waitIn(
    webkit,
    'the share opens',
    () => document.querySelector('[role="list"][aria-label="Files"]') !== null,
    [],
  );
}

/** The text of the file's item in the Files list. */
export async function fileStatus(webkit: WebKit, name: string): Promise<string> {
  return await webkit.run(fileItemText, name);
}

/** Waits until the file reads Verified or Failed; returns its item's text. */
export async function outcome(webkit: WebKit, name: string, timeout = LONG): Promise<string> {
  return await settles(() => fileStatus(webkit, name), name, timeout);
}

/** Waits until the file shows at least `percent` %. */
export async function reaches(webkit: WebKit, name: string, percent: number, timeout = LONG): Promise<number> {
  return await passes(() => fileStatus(webkit, name), name, percent, timeout);
}
