import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no Temporal server (pure logic, and real tools on temp trees);
// `integration` (*.int.test.ts) gets one dev server per run from the global setup.
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.int.test.ts', 'node_modules/**'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/setup/temporal-server.ts'],
        },
      },
    ],
  },
});
