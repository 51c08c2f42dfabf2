import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['shared/**/*.test.ts', 'server/**/*.test.ts', 'client/**/*.test.ts', 'cli/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Postgres and Redis on loopback for the stores' suites (installed when missing).
    globalSetup: ['server/test-engines/global-setup.ts'],
  },
});
