/** Keyboard-only driving for the journeys: Tab to a control, and check that focus is visible. */
import { expect, type FileChooser, type Locator, type Page } from '@playwright/test';

/** What has focus, for messages: tag, role, accessible-ish name. */
async function describeFocus(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return '(body)';
    const name =
      element.getAttribute('aria-label') ??
      (element as HTMLInputElement).labels?.[0]?.textContent ??
      element.textContent?.trim().slice(0, 40) ??
      '';
    return `${element.tagName.toLowerCase()}${element.getAttribute('role') ? `[role=${element.getAttribute('role')}]` : ''} "${name}"`;
  });
}

/**
 * The focused element looks different from how it looks unfocused (outline, box shadow,
 * border or background), i.e. the focus indicator is visible.
 */
export async function expectVisibleFocus(page: Page): Promise<void> {
  const result = await page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    if (!element || element === document.body) return { ok: false, why: 'nothing has focus' };
    const read = () => {
      const style = getComputedStyle(element);
      return [
        style.outlineStyle === 'none' || Number.parseFloat(style.outlineWidth) === 0
          ? 'none'
          : `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
        style.boxShadow,
        `${style.borderBottomStyle} ${style.borderBottomWidth} ${style.borderBottomColor}`,
        `${style.borderTopColor}`,
        style.backgroundColor,
        style.textDecorationLine,
      ].join(' | ');
    };
    const focused = read();
    // No transitions while comparing, so the unfocused look is read at once.
    const transition = element.style.transition;
    element.style.transition = 'none';
    element.blur();
    const unfocused = read();
    element.focus();
    element.style.transition = transition;
    const rect = element.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return { ok: false, why: 'the focused element has no size' };
    return { ok: focused !== unfocused, why: `focused and unfocused look the same: ${focused}` };
  });
  expect(result.ok, `visible focus on ${await describeFocus(page)}: ${result.why}`).toBe(true);
}

/**
 * Presses Tab (or Shift+Tab) until `target` has focus, checking on the way that every
 * stop shows its focus; fails after `max` presses.
 */
export async function tabTo(page: Page, target: Locator, { back = false, max = 40 } = {}): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (
      await target
        .evaluate((element) => element === document.activeElement, null, { timeout: 1_000 })
        .catch(() => false)
    ) {
      await expectVisibleFocus(page);
      return;
    }
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    if ((await describeFocus(page)) !== '(body)') await expectVisibleFocus(page);
  }
  throw new Error(
    `${back ? 'Shift+Tab' : 'Tab'} did not reach ${target} in ${max} presses; focus: ${await describeFocus(page)}`,
  );
}

/**
 * Tabs to `target`, presses Enter there and returns the file chooser that opens.
 *
 * Playwright answers a chooser only if Chromium intercepts it, and `waitForEvent('filechooser')`
 * turns interception on by sending the renderer a DevTools command without waiting for the
 * reply. Key presses reach the renderer on another channel, so under load an Enter sent at once
 * can be handled first: the chooser then opens for real, headless Chromium cancels it, and no
 * event ever comes. So the wait starts before tabbing: tabTo's checks are DevTools round trips
 * to the same renderer, answered in order after that command, so interception is on by Enter.
 */
export async function openFileChooserByKeyboard(page: Page, target: Locator): Promise<FileChooser> {
  const opened = page.waitForEvent('filechooser');
  try {
    await tabTo(page, target);
    await page.keyboard.press('Enter');
  } catch (error) {
    opened.catch(() => {}); // it fails too once the page closes; the error to report is this one
    throw error;
  }
  return await opened;
}

/** `target` has keyboard focus now. */
export async function expectFocused(target: Locator): Promise<void> {
  await expect(target).toBeFocused();
}
