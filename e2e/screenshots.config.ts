/**
 * `npm run screenshots`: the README's pictures, taken from the real app in Chromium by
 * e2e/readme.shots.ts (the journeys' server, fixtures and page objects), into docs/screenshots/.
 */
import { defineConfig } from '@playwright/test';
import journeys from './playwright.config.ts';

export default defineConfig({
  ...journeys,
  testMatch: 'readme.shots.ts',
  outputDir: '../test-results/screenshots',
  workers: 1,
  retries: 0,
  reporter: [['list']],
});
