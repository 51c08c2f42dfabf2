/**
 * Whether a text was ever on the page, however briefly: a state that can pass in less time
 * than a locator polls (a reconnection on loopback) is still checked, not skipped.
 */
import type { Page } from '@playwright/test';

/** Starts recording whether `text` appears in the page from now on. */
export async function watchText(page: Page, text: string): Promise<() => Promise<boolean>> {
  await page.evaluate((wanted) => {
    const holder = window as unknown as { __seenText?: Record<string, boolean> };
    holder.__seenText ??= {};
    const seen = holder.__seenText;
    seen[wanted] = document.body.textContent?.includes(wanted) ?? false;
    new MutationObserver(() => {
      if (!seen[wanted] && document.body.textContent?.includes(wanted)) seen[wanted] = true;
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  }, text);
  return () =>
    page.evaluate(
      (wanted) => (window as unknown as { __seenText: Record<string, boolean> }).__seenText[wanted] === true,
      text,
    );
}
