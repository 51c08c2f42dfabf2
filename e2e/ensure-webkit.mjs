#!/usr/bin/env node
/**
 * Makes sure the WebKit journeys (e2e/webkit/) can run, on a fresh machine too: WebKitGTK's
 * WebDriver (`WebKitWebDriver`, Debian `webkit2gtk-driver`, which brings the MiniBrowser)
 * and an X server to show it in (`Xvfb`, Debian `xvfb`: WebKitGTK has no headless mode).
 * What is missing is installed with apt-get as root; otherwise this fails and says what to
 * install. $WEBKIT_DRIVER_PATH and $MINIBROWSER_PATH point elsewhere.
 */
import { aptInstall, canInstall, executable, which } from './debian-packages.mjs';

const needs = [
  {
    what: 'WebKitWebDriver',
    path: process.env.WEBKIT_DRIVER_PATH ?? which('WebKitWebDriver'),
    pkg: 'webkit2gtk-driver',
  },
  {
    what: 'MiniBrowser',
    path: process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
    pkg: 'webkit2gtk-driver',
  },
  { what: 'Xvfb', path: which('Xvfb'), pkg: 'xvfb' },
];
const present = (need) => need.path !== null && executable(need.path);
const missing = needs.filter((need) => !present(need));

if (missing.length === 0) {
  console.log(`ensure-webkit: using ${needs.map((need) => need.path).join(', ')}`);
} else if (canInstall()) {
  const packages = [...new Set(missing.map((need) => need.pkg))];
  console.log(
    `ensure-webkit: missing ${missing.map((need) => need.what).join(', ')}; installing ${packages.join(', ')}`,
  );
  const seconds = aptInstall('ensure-webkit', packages);
  const still = missing.filter((need) => !executable(need.path ?? which(need.what) ?? ''));
  if (still.length > 0) {
    console.error(`ensure-webkit: apt-get finished but ${still.map((need) => need.what).join(', ')} still missing`);
    process.exit(1);
  }
  console.log(`ensure-webkit: installed ${packages.join(', ')} in ${seconds.toFixed(1)} s`);
} else {
  console.error(
    `ensure-webkit: ${missing.map((need) => need.what).join(', ')} not found and apt-get is not usable ` +
      '(run as root, or install webkit2gtk-driver and xvfb)',
  );
  process.exit(1);
}
