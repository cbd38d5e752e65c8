import { defineConfig } from 'vitest/config';

/**
 * Three projects so each suite can run alone (`npm run test:unit|infra|e2e`)
 * while `npm test` runs all of them.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Property tests (fast-check) run hundreds of cases: seconds each on a busy 2-core machine.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          // Synthesizing a stack bundles every function with esbuild: slow, so give it room.
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Each synth is CPU-bound; running files in parallel on 2 cores only thrashes.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
