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
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const systemPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function run(command, args) {
  console.log(`ensure-browser: $ ${command} ${args.join(' ')}`);
  execFileSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function onPath(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const started = Date.now();
if (executable(systemPath)) {
  console.log(`ensure-browser: using ${systemPath}`);
} else if (process.getuid?.() === 0 && onPath('apt-get') && !process.env.CHROMIUM_PATH) {
  console.log('ensure-browser: no system Chromium; installing Debian package "chromium" with apt-get');
  run('apt-get', ['update', '-q']);
  run('apt-get', ['install', '-y', '-q', 'chromium']);
  if (!executable(systemPath)) {
    console.error(`ensure-browser: apt-get finished but ${systemPath} is still missing`);
    process.exit(1);
  }
  console.log(`ensure-browser: installed ${systemPath} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} else {
  console.log(`ensure-browser: ${systemPath} not found and apt-get not usable; using Playwright's Chromium download`);
  run('npx', ['playwright', 'install', 'chromium']);
}
