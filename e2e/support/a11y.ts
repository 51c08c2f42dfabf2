/**
 * Accessibility checks for the journeys: axe (WCAG 2.0/2.1 A and AA) in light and dark
 * colour schemes, at the default desktop size and at 360 px wide, and a horizontal-scroll
 * check for narrow screens.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, type TestInfo } from '@playwright/test';

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export const SCHEMES = ['light', 'dark'] as const;
export type Scheme = (typeof SCHEMES)[number];

export const NARROW = { width: 360, height: 740 };

/**
 * Violations inside Uppy's Dashboard that no Dashboard option changes: each is one rule on
 * one selector, and only nodes matching that selector are let through.
 */
export const UPPY_ALLOWANCES: readonly { rule: string; selector: string; why: string }[] = [];

/**
 * Runs axe on the page as it is now and fails on any violation of impact serious or
 * critical; the lesser ones are printed and attached so they are seen, not hidden.
 */
export async function expectNoSeriousViolations(page: Page, testInfo: TestInfo, label: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  for (const violation of results.violations) {
    const allowed = UPPY_ALLOWANCES.filter((a) => a.rule === violation.id).map((a) => a.selector);
    if (allowed.length === 0) continue;
    const kept = [];
    for (const node of violation.nodes) {
      const target = node.target.at(-1);
      const matches =
        typeof target === 'string' &&
        (await page.evaluate(
          ([t, selectors]) => {
            const element = document.querySelector(t);
            return !!element && selectors.some((s) => element.matches(s));
          },
          [target, allowed] as const,
        ));
      if (!matches) kept.push(node);
    }
    violation.nodes = kept;
  }
  results.violations = results.violations.filter((v) => v.nodes.length > 0);
  const describe = (v: (typeof results.violations)[number]) =>
    `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}  ${n.failureSummary?.split('\n').join(' ') ?? ''}`).join('\n')}`;
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = results.violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical');
  if (minor.length > 0) {
    const text = minor.map(describe).join('\n');
    console.log(`[a11y] ${label}: ${minor.length} minor violation(s)\n${text}`);
    await testInfo.attach(`axe-minor-${label}.txt`, { body: text, contentType: 'text/plain' });
  }
  expect.soft(serious.map(describe), `serious or critical axe violations: ${label}`).toEqual([]);
}

/**
 * Checks the page in both colour schemes at its current size and at 360×740, then puts the
 * viewport back. At 360 px the page must not scroll sideways.
 */
export async function checkAllSchemesAndSizes(page: Page, testInfo: TestInfo, label: string): Promise<void> {
  const size = page.viewportSize();
  const sizes = size && size.width !== NARROW.width ? [size, NARROW] : [NARROW];
  for (const viewport of sizes) {
    await page.setViewportSize(viewport);
    for (const colorScheme of SCHEMES) {
      await page.emulateMedia({ colorScheme });
      await settle(page, colorScheme);
      await expectNoSeriousViolations(page, testInfo, `${label} (${colorScheme}, ${viewport.width}px)`);
    }
    if (viewport.width === NARROW.width) await expectNoHorizontalScroll(page, label);
  }
  if (size) await page.setViewportSize(size);
  await page.emulateMedia({ colorScheme: null });
}

/**
 * Waits until the page has followed the colour scheme: Uppy's Dashboard re-renders with its
 * own `data-uppy-theme` a moment after the media change, and CSS transitions must end
 * before axe reads colours, or it measures a blend of the two schemes.
 */
async function settle(page: Page, colorScheme: Scheme): Promise<void> {
  await page.waitForFunction((scheme) => {
    const dashboard = document.querySelector<HTMLElement>('.uppy-Dashboard[data-uppy-theme]');
    return !dashboard || dashboard.dataset.uppyTheme === scheme;
  }, colorScheme);
  await page.evaluate(async () => {
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    await Promise.all(
      document
        .getAnimations()
        .filter((animation) => animation.effect?.getComputedTiming().iterations !== Number.POSITIVE_INFINITY)
        .map((animation) => animation.finished.catch(() => undefined)),
    );
  });
}

/** At the current viewport, the document is no wider than the window; names what sticks out if not. */
export async function expectNoHorizontalScroll(page: Page, label: string): Promise<void> {
  const { scrollWidth, innerWidth, wide } = await page.evaluate(() => {
    const innerWidth = window.innerWidth;
    const wide: string[] = [];
    for (const element of document.body.querySelectorAll('*')) {
      const { right } = element.getBoundingClientRect();
      if (right > innerWidth + 0.5 && wide.length < 8) {
        const classes = typeof element.className === 'string' ? element.className.split(' ').slice(0, 2) : [];
        wide.push(`${element.tagName.toLowerCase()}${classes.map((c) => `.${c}`).join('')} → ${Math.round(right)}px`);
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth, wide };
  });
  expect
    .soft(scrollWidth, `${label}: no horizontal scroll at ${innerWidth}px; too wide: ${wide.join(', ')}`)
    .toBeLessThanOrEqual(innerWidth);
}
