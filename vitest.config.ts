import { defineConfig } from 'vitest/config';

// One runner for unit, integration and browser (Playwright) tests. Tests touch real
// SQLite files, real sharp and real tfjs kernels, so they get generous timeouts and
// run in forked processes (native addons and wasm heaps stay isolated per file).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
