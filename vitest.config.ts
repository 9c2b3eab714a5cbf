import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          globalSetup: ['test/integration/global-setup.ts'],
          // Tests share one Docker Engine on a 2-core machine; files run one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
