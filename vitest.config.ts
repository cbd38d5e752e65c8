import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The zod the functions' bundles take instead of the package (`BUNDLE_ALIASES` in `infra/`). */
const BUNDLED_ZOD = fileURLToPath(new URL('./shared/runtime/zod/index.ts', import.meta.url));

/**
 * Projects so each suite can run alone (`npm run test:unit|infra|e2e`) while `npm test` runs all
 * of them. `unit-bundled-zod` runs the tests of every handler, webhook adapter, the client file and
 * intake again with `zod` resolved as the bundles resolve it (zod/mini with the classic methods,
 * `shared/runtime/zod/`), so a method the bundles lack, or a message they word differently, fails
 * the same assertions that pass with the package.
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
        resolve: { alias: [{ find: /^zod$/, replacement: BUNDLED_ZOD }] },
        test: {
          name: 'unit-bundled-zod',
          include: [
            'test/unit/functions/**/*.test.ts',
            'test/unit/webhooks/**/*.test.ts',
            'test/unit/{client-config,normalise,intake,capture-domain,tracking,form-vendors}.test.ts',
          ],
          environment: 'node',
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
