/**
 * Playwright for Ferry's user journeys. Each test starts the real server itself (the
 * `ferry` fixture in fixtures.ts) on a free port with an empty data directory, because
 * several journeys kill and restart it or read its data directory; `npm run test:e2e`
 * builds dist/ first, which that server serves.
 */
import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';

const CI = !!process.env.CI;
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: '../test-results/e2e',
  // Two cores: two workers, each driving a sender and a receiver page.
  workers: 2,
  fullyParallel: false,
  forbidOnly: CI,
  retries: CI ? 1 : 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  // 'list' ends with "N passed (time)"; CI also gets a JUnit file it can parse.
  reporter: CI ? [['list'], ['junit', { outputFile: '../test-results/e2e-junit.xml' }]] : [['list']],
  use: {
    ...devices['Desktop Chrome'],
    trace: 'on-first-retry',
    screenshot: 'only-on-failure',
    acceptDownloads: true,
    launchOptions: {
      ...(existsSync(chromium) ? { executablePath: chromium } : {}),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
