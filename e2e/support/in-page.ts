/**
 * Questions asked inside a Ferry page, for drivers that run a function in the page and pass
 * it JSON arguments (puppeteer-core's `waitForFunction`, selenium-webdriver's scripts): the
 * same DOM reading for Firefox, Chromium and WebKit. Each function is self-contained (it is
 * sent to the page as source).
 */

/**
 * The share link in the share card (an `article`) headed `heading`, once the link shows
 * (earlier sends stay listed, some under the same heading: links in `known` are skipped),
 * else undefined.
 */
export function shareLinkIn(heading: string, known: string[] = []): string | undefined {
  for (const card of document.querySelectorAll('article')) {
    if (card.querySelector('h1,h2,h3,h4')?.textContent?.trim() !== heading) continue;
    for (const label of card.querySelectorAll('label')) {
      const value = label.textContent?.trim() === 'Share link' ? (label.control as HTMLInputElement | null)?.value : '';
      if (value && /\/s\/[A-Za-z0-9_-]{16}#/.test(value) && !known.includes(value)) return value;
    }
  }
  return undefined;
}

/** Every share link the page lists now (shareLinkIn's `known`, read before a send). */
export function shareLinks(): string[] {
  return [...document.querySelectorAll('article label')]
    .filter((label) => label.textContent?.trim() === 'Share link')
    .map((label) => ((label as HTMLLabelElement).control as HTMLInputElement | null)?.value ?? '')
    .filter((value) => value !== '');
}

/** True once no upload progress bar shows (the link shows while its upload still runs). */
export function uploadsDone(): boolean {
  return !document.querySelector('[role="progressbar"][aria-label="Upload progress"]');
}

/** The text of the file's item in the Files list ('' while it is not shown). */
export function fileItemText(name: string): string {
  const items = [...document.querySelectorAll('li')].filter((li) => li.textContent?.includes(name));
  return items.at(-1)?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
}

/** The title a share card gets for `paths` sent together. */
export function cardTitle(paths: string[]): string {
  return paths.length === 1 ? (paths[0]?.split('/').at(-1) ?? '') : `${paths.length} files`;
}

/** The send view's file input (not its folder input). */
export const FILE_INPUT = '[data-testid="dropzone"] input[type=file][aria-label="Files to send"]';
