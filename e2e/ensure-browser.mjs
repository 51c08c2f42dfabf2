#!/usr/bin/env node
/**
 * Makes sure the end-to-end suite has a Chromium to drive, on a fresh machine too.
 *
 * 1. $CHROMIUM_PATH or /usr/bin/chromium when it exists (fast path: nothing to do);
 * 2. else, as root on a machine with apt-get, Debian's `chromium` package;
 * 3. else Playwright's own download (`npx playwright install chromium`), which needs
 *    access to Playwright's CDN.
 *
 * e2e/playwright.config.ts makes the same choice, so what is printed here is what runs.
 */
import { aptInstall, canInstall, executable, run } from './debian-packages.mjs';

const systemPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

if (executable(systemPath)) {
  console.log(`ensure-browser: using ${systemPath}`);
} else if (canInstall() && !process.env.CHROMIUM_PATH) {
  console.log('ensure-browser: no system Chromium; installing Debian package "chromium" with apt-get');
  const seconds = aptInstall('ensure-browser', ['chromium']);
  if (!executable(systemPath)) {
    console.error(`ensure-browser: apt-get finished but ${systemPath} is still missing`);
    process.exit(1);
  }
  console.log(`ensure-browser: installed ${systemPath} in ${seconds.toFixed(1)} s`);
} else {
  console.log(`ensure-browser: ${systemPath} not found and apt-get not usable; using Playwright's Chromium download`);
  run('ensure-browser', 'npx', ['playwright', 'install', 'chromium']);
}
