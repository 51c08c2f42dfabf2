#!/usr/bin/env node
/**
 * Makes sure the Firefox journeys (e2e/firefox/) have a Firefox to drive, on a fresh machine
 * too: $FIREFOX_PATH or /usr/bin/firefox-esr when it exists; else, as root on a machine with
 * apt-get, Debian's `firefox-esr` package. Playwright's own Firefox is a patched build that
 * puppeteer-core cannot drive over WebDriver BiDi, so there is no download fallback:
 * without root and apt-get this fails and says what to install.
 */
import { aptInstall, canInstall, executable } from './debian-packages.mjs';

const systemPath = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

if (executable(systemPath)) {
  console.log(`ensure-firefox: using ${systemPath}`);
} else if (canInstall() && !process.env.FIREFOX_PATH) {
  console.log('ensure-firefox: no Firefox; installing Debian package "firefox-esr" with apt-get');
  const seconds = aptInstall('ensure-firefox', ['firefox-esr']);
  if (!executable(systemPath)) {
    console.error(`ensure-firefox: apt-get finished but ${systemPath} is still missing`);
    process.exit(1);
  }
  console.log(`ensure-firefox: installed ${systemPath} in ${seconds.toFixed(1)} s`);
} else {
  console.error(
    `ensure-firefox: ${systemPath} not found and apt-get is not usable (run as root, or install firefox-esr, or set FIREFOX_PATH)`,
  );
  process.exit(1);
}
