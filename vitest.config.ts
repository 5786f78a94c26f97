import { defineConfig } from 'vitest/config';

// Two projects: pure unit tests (no privileges) and integration tests that build
// network namespaces, start lldpad and the compiled daemon. Integration tests need
// root and run one file at a time so namespaces and CPU are not oversubscribed.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 120_000,
          // a few unit files compile dist/ first (CLI tests): slow on a loaded 2-core machine
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
