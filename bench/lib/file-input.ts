/**
 * The send view's file input, in every version a bench may build: the pick area's
 * `Files to send` input (from the lazy-Uppy start screen on, present before Uppy loads), or
 * Uppy Dashboard's own input (before it).
 */
import type { Locator, Page } from 'playwright-core';

export function sendFileInput(page: Page): Locator {
  return page
    .locator(
      '[data-testid="dropzone"] input[type=file][aria-label="Files to send"], ' +
        '[data-testid="dropzone"] input.uppy-Dashboard-input:not([webkitdirectory])',
    )
    .first();
}
